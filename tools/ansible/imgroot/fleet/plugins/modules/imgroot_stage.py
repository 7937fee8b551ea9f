#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: imgroot_stage
short_description: Stage an imgroot release or image on a node, for its next boot
version_added: "0.1.0"
description:
  - Runs C(imgroot stage) on the node - a published release (its URL, or its manifest, channel
    or directory on the node) is fetched, reusing the blocks the node has, checked and staged as
    C(hn-root-new.img); an image file on the node is checked and copied in.
  - Idempotent - a release or image that is already the current image (nothing staged, no revert
    pending) or already staged is not staged again (V(changed=false)). For a release the C(imgroot)
    CLI decides, by the manifest's SHA-256, having fetched only the manifest; for an image file the
    module compares the file's SHA-256 with the ones C(imgroot status) recorded.
  - The node runs the staged image after a reboot (V(needs_reboot)); the boot is on trial and goes
    back by itself when the image is not marked good.
options:
  src:
    description:
      - A release URL (V(http://), V(https://), V(file://); a manifest or a channel), or a path on the
        node to a release (manifest, channel file or release directory) or to an image file.
    type: str
    required: true
  keys:
    description:
      - The directory of public keys a release must be signed by (C(imgroot stage --keys)); by default
        the image's C(/etc/imgroot/keys).
    type: path
  insecure:
    description:
      - Stage what no trusted key signed (C(--insecure)); recorded as such on the node.
    type: bool
    default: false
  allow_downgrade:
    description:
      - Stage a release older than the running image's (C(--allow-downgrade)).
    type: bool
    default: false
  force:
    description:
      - Stage an image even when one with the same SHA-256 was given up before (C(--force)).
    type: bool
    default: false
  tries:
    description:
      - Boots GRUB gives the image before going back (C(--tries)); the CLI's default (3) when unset.
    type: int
notes:
  - Needs the C(imgroot) command on the node and Python 3; staging needs root.
  - In check mode a release is resolved and checked exactly as a stage would (signature, downgrade,
    an image given up before) by C(imgroot stage --dry-run), which writes nothing.
extends_documentation_fragment:
  - imgroot.fleet.common
'''

EXAMPLES = r'''
- name: Stage the release the stable channel names
  imgroot.fleet.imgroot_stage:
    src: http://releases.example.com/channels/stable
  register: staged

- name: Boot it
  ansible.builtin.reboot:
  when: staged.needs_reboot

- name: Stage an image file copied onto the node, without a boot trial
  imgroot.fleet.imgroot_stage:
    src: /var/tmp/node-2026.01.img
    tries: 0
'''

RETURN = r'''
changed:
  description: An image was staged (in check mode - would be).
  returned: always
  type: bool
needs_reboot:
  description: The node runs the image only after a reboot (it is staged, now or before).
  returned: always
  type: bool
reason:
  description: Why nothing changed - V(current) (the node runs it) or V(staged) (it is staged already); null when it changed.
  returned: always
  type: str
  sample: current
release:
  description: What was staged.
  returned: always
  type: complex
  contains:
    name:
      description: The release, V(NAME-VERSION); null for an image file.
      type: str
      sample: hn-root-4
    version:
      description: The release's version; null for an image file.
      type: int
      sample: 4
    sha256:
      description: The image's SHA-256 (the manifest's for a release).
      type: str
bytes_fetched:
  description: Bytes received over the network (compressed, index included); 0 when nothing was fetched.
  returned: always
  type: int
bytes_reused:
  description: Bytes of the image found on the node (its images, an interrupted download).
  returned: always
  type: int
signed_by:
  description: Who signed the release - a key id, V(unsigned) (the node trusts no key) or V(insecure); null for an image file.
  returned: always
  type: str
msg:
  description: What happened, in words.
  returned: always
  type: str
'''

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.imgroot.fleet.plugins.module_utils.imgroot import (
    COMMON_ARGS, image, imgroot_command, json_lines, read_status, release_of, run_imgroot)


def names_release(src):
    """src names a release (as imgroot stage decides): a URL, a directory, or a JSON file."""
    if '://' in src or os.path.isdir(src):
        return True
    try:
        with open(src, 'rb') as f:
            head = f.read(4096).lstrip()
    except (IOError, OSError):
        return False
    return head.startswith(b'{')


def stage_options(module):
    p = module.params
    argv = []
    if p['keys']:
        argv += ['--keys', p['keys']]
    for flag in ('insecure', 'allow_downgrade', 'force'):
        if p[flag]:
            argv.append('--' + flag.replace('_', '-'))
    if p['tries'] is not None:
        argv += ['--tries', str(p['tries'])]
    return argv


def stage_release(module):
    argv = imgroot_command(module, 'stage', '--json', *stage_options(module))
    if module.check_mode:
        argv.append('--dry-run')
    argv.append(module.params['src'])
    dummy, out, dummy2 = run_imgroot(module, argv)
    events = [e for e in json_lines(module, argv, out) if e.get('event') != 'progress']
    if not events:
        module.fail_json(msg='imgroot stage --json printed no result', cmd=argv, stdout=out)
    r = events[-1]
    changed = bool(r.get('changed'))
    reason = r.get('reason')
    needs_reboot = changed or reason == 'staged'
    if not changed:
        msg = 'release %s is already the %s image' % (r.get('release'), reason)
    elif module.check_mode:
        msg = 'would stage release %s' % r.get('release')
    else:
        msg = 'staged release %s' % r.get('release')
    return dict(
        changed=changed, needs_reboot=needs_reboot, reason=reason if not changed else None,
        release=dict(name=r.get('release'), version=r.get('version'), sha256=r.get('sha256')),
        bytes_fetched=r.get('bytes_fetched', 0), bytes_reused=r.get('bytes_reused', 0),
        signed_by=r.get('signed_by'), msg=msg)


def file_sha256(module, path):
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                digest.update(block)
    except (IOError, OSError) as e:
        module.fail_json(msg='read %s: %s' % (path, e))
    return digest.hexdigest()


def stage_file(module):
    src = module.params['src']
    sha256 = file_sha256(module, src)
    status = read_status(module)
    current, staged = image(status, 'current'), image(status, 'staged')
    result = dict(changed=False, needs_reboot=False, reason=None,
                  release=dict(name=None, version=None, sha256=sha256),
                  bytes_fetched=0, bytes_reused=0, signed_by=None)
    if staged.get('present') and staged.get('sha256') == sha256:
        result.update(needs_reboot=True, reason='staged', msg='%s is already the staged image' % src)
        return result
    if (current.get('sha256') == sha256 and not staged.get('present')
            and not status.get('revert_pending')):
        result.update(reason='current', msg='%s is already the current image' % src)
        return result
    result.update(changed=True, needs_reboot=True)
    if module.check_mode:
        result['msg'] = 'would stage %s' % src
        return result
    argv = imgroot_command(module, 'stage', *stage_options(module)) + [src]
    run_imgroot(module, argv)
    staged = image(read_status(module), 'staged')
    result['release']['name'], result['release']['version'] = release_of(staged)
    result['signed_by'] = staged.get('signed_by')
    result['msg'] = 'staged %s' % src
    return result


def main():
    argument_spec = dict(
        src=dict(type='str', required=True),
        keys=dict(type='path', no_log=False),
        insecure=dict(type='bool', default=False),
        allow_downgrade=dict(type='bool', default=False),
        force=dict(type='bool', default=False),
        tries=dict(type='int'),
    )
    argument_spec.update(COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if names_release(module.params['src']):
        result = stage_release(module)
    else:
        result = stage_file(module)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
