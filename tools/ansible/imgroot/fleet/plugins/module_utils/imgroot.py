# -*- coding: utf-8 -*-
"""What the imgroot.fleet modules share: running the imgroot CLI with --json
and reading its answers. Standard library only: it runs on the node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# The options every module takes.
COMMON_ARGS = dict(
    hostpart=dict(type='path'),
)


def imgroot_command(module, verb, *args):
    """The argv of 'imgroot VERB ARGS' with the module's --hostpart."""
    argv = [module.get_bin_path('imgroot', required=True), verb]
    if module.params.get('hostpart'):
        argv += ['--hostpart', module.params['hostpart']]
    return argv + list(args)


def run_imgroot(module, argv, fail=True):
    """Run argv; on a non-zero exit fail the module with imgroot's own one-line
    reason (or return rc, out, err when fail is False)."""
    rc, out, err = module.run_command(argv)
    if rc != 0 and fail:
        lines = [line for line in err.splitlines() if line.strip()]
        reason = lines[-1] if lines else 'exit status %d' % rc
        module.fail_json(msg=reason, rc=rc, cmd=argv, stdout=out, stderr=err)
    return rc, out, err


def json_lines(module, argv, out):
    """The JSON objects of out, one a line."""
    objects = []
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            objects.append(json.loads(line))
        except ValueError as e:
            module.fail_json(msg='%s printed a line that is not JSON: %s' % (argv[0], e),
                             cmd=argv, stdout=out)
    return objects


def read_status(module):
    """imgroot status --json, parsed."""
    argv = imgroot_command(module, 'status', '--json')
    dummy, out, dummy2 = run_imgroot(module, argv)
    try:
        return json.loads(out)
    except ValueError as e:
        module.fail_json(msg='imgroot status --json printed no JSON: %s' % e, cmd=argv, stdout=out)


def read_events(module, count=200):
    """The last 'count' events of imgroot log --json, oldest first."""
    argv = imgroot_command(module, 'log', '--json', '-n', str(count))
    dummy, out, dummy2 = run_imgroot(module, argv)
    return json_lines(module, argv, out)


def image(status, role):
    """The entry of status['images'] with this role (current, staged, old, broken)."""
    for entry in status.get('images') or []:
        if entry.get('role') == role:
            return entry
    return {}


def release_of(entry):
    """(NAME-VERSION, version) of an image entry, or (None, None)."""
    release = entry.get('release') or {}
    return release.get('name'), release.get('version')
