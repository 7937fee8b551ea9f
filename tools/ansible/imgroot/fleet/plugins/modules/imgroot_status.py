#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: imgroot_status
short_description: Facts about an imgroot node's images and boot verdict
version_added: "0.1.0"
description:
  - Reads C(imgroot status --json) and the last events of C(imgroot log --json) on the node and
    sets C(ansible_facts.imgroot) - the booted image, its release and version, the staged image,
    the boot trial, the boot assessment and, in words, why the node runs what it runs.
  - With O(expect_sha256) or O(expect_release) it also judges a rollout to that image - whether the
    node runs it and marked it good, still waits for its verdict, marked it bad, or went back to
    another image by itself.
  - Changes nothing on the node.
options:
  expect_sha256:
    description:
      - The SHA-256 of the image a rollout installs (the C(release.sha256) that M(imgroot.fleet.imgroot_stage)
        returns). Sets the V(verdict) and V(settled) return values.
    type: str
  expect_release:
    description:
      - The release (V(NAME-VERSION)) a rollout installs, for images whose SHA-256 the node did not record.
    type: str
  events:
    description:
      - How many of the latest events of C(imgroot log) to look through for the last verdict.
    type: int
    default: 200
notes:
  - Needs the C(imgroot) command on the node's PATH (or in /usr/sbin, /sbin) and Python 3.
  - Supports check mode - it only reads.
attributes:
  facts:
    support: full
extends_documentation_fragment:
  - imgroot.fleet.common
'''

EXAMPLES = r'''
- name: Read the node's images and verdict
  imgroot.fleet.imgroot_status:

- name: Show the release it runs
  ansible.builtin.debug:
    msg: "{{ ansible_facts.imgroot.release }} ({{ ansible_facts.imgroot.assessment }})"

- name: Wait until the node marked the new image good, or gave it up
  imgroot.fleet.imgroot_status:
    expect_sha256: "{{ staged.release.sha256 }}"
  register: node
  until: node.settled
  retries: 60
  delay: 10
'''

RETURN = r'''
ansible_facts:
  description: Facts about the node's images.
  returned: always
  type: complex
  contains:
    imgroot:
      description: The node's images, boot trial and verdict.
      type: complex
      contains:
        booted_image:
          description: The image file the running system booted (normally V(hn-root.img)); null when C(/) is not an image of this host partition.
          type: str
        release:
          description: The release (V(NAME-VERSION)) of the current image V(hn-root.img); null when it was not staged from a release.
          type: str
          sample: hn-root-4
        version:
          description: That release's version.
          type: int
          sample: 4
        sha256:
          description: The current image's SHA-256 as staged; null when not known.
          type: str
        assessment:
          description: The boot assessment of the booted image - V(good), V(bad) or V(unassessed).
          type: str
        image:
          description: The current image V(hn-root.img).
          type: dict
        staged:
          description: An image is staged (V(hn-root-new.img)); the next boot makes it current.
          type: bool
        staged_image:
          description: The staged image - V(sha256), V(release), V(version), V(source), V(signed_by), V(staged_at), V(assessment); null when none.
          type: dict
        old_image:
          description: V(hn-root-old.img), the revert target, as staged_image; null when none.
          type: dict
        broken_image:
          description: V(hn-root-broken.img), the image last given up, as staged_image; null when none.
          type: dict
        revert_pending:
          description: The next boot goes back to the old image (C(system-revert)).
          type: bool
        next_boot:
          description: The image the next boot loads (V(image)) and the rotation it does (V(action) - V(none), V(upgrade), V(revert)).
          type: dict
        trial:
          description: GRUB's boot trial - V(phase) (V(none), V(counting), V(reverting), V(discarding)), V(tries_left), V(image); null without an EFI-BOOT partition.
          type: dict
        explanation:
          description: Why the node runs what it runs, in sentences (C(imgroot status), why lines).
          type: list
          elements: str
        last_verdict:
          description: The last C(verdict) event of C(imgroot log) - V(time), V(image), V(result) (V(green), V(red)), V(failed), V(wanted_failed), V(sha256), V(action); null when none.
          type: dict
        last_red_verdict:
          description: The last red C(verdict) event; null when none.
          type: dict
        why:
          description: The explanation in one line, or the last verdict's failed checks when it is red and there is no explanation; empty when there is nothing to say.
          type: str
        status:
          description: The whole C(imgroot status --json) object (docs/status-json.md).
          type: dict
verdict:
  description:
    - With O(expect_sha256) or O(expect_release) - V(good) (the node runs the image and marked it good),
      V(pending) (staged, or running and not assessed yet), V(bad) (running it, marked bad),
      V(rolled-back) (the node runs another image - it gave this one up by itself).
  returned: when expect_sha256 or expect_release is given
  type: str
  sample: good
settled:
  description:
    - The verdict is final - V(good), V(rolled-back), or V(bad) when the node will not go back by itself.
    - A V(bad) image on trial is not settled while the node is going back - its C(verdict) event
      not logged yet (the assessment is still concluding) or saying C(reboot=true) - or GRUB is
      reverting; the node's next look is V(rolled-back).
  returned: when expect_sha256 or expect_release is given
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.imgroot.fleet.plugins.module_utils.imgroot import (
    COMMON_ARGS, image, read_events, read_status, release_of)


def image_facts(entry):
    """The facts of one image entry of the status, or None when it is absent."""
    if not entry or not entry.get('present'):
        return None
    release, version = release_of(entry)
    facts = dict(release=release, version=version)
    for key in ('name', 'sha256', 'source', 'signed_by', 'staged_at', 'assessment', 'size',
                'modified_since_staged'):
        facts[key] = entry.get(key)
    return facts


def describe_verdict(event):
    failed = ', '.join(event.get('failed') or []) or 'nothing'
    text = 'verdict %s on %s: failed %s' % (event.get('result'), event.get('image'), failed)
    if event.get('action'):
        text += '; %s' % event['action']
    return text


def node_facts(status, events):
    verdicts = [e for e in events if e.get('event') == 'verdict']
    reds = [e for e in verdicts if e.get('result') == 'red']
    current = image_facts(image(status, 'current')) or {}
    explanation = list(status.get('explanation') or [])
    last_verdict = verdicts[-1] if verdicts else None
    why = ' '.join(explanation)
    if not why and last_verdict and last_verdict.get('result') == 'red':
        why = describe_verdict(last_verdict)
    return dict(
        booted_image=(status.get('booted') or {}).get('image'),
        release=current.get('release'),
        version=current.get('version'),
        sha256=current.get('sha256'),
        assessment=(status.get('assessment') or {}).get('state'),
        image=current or None,
        staged=bool(status.get('staged')),
        staged_image=image_facts(image(status, 'staged')),
        old_image=image_facts(image(status, 'old')),
        broken_image=image_facts(image(status, 'broken')),
        revert_pending=bool(status.get('revert_pending')),
        next_boot=status.get('next_boot'),
        trial=status.get('trial'),
        explanation=explanation,
        last_verdict=last_verdict,
        last_red_verdict=reds[-1] if reds else None,
        why=why,
        status=status,
    )


def going_back(facts):
    """Whether a node running an image it marked bad is about to leave it.

    On trial, a red verdict uses up the tries (the next boot gives the image
    up) and then reboots, unless the node's verdict event says it stays up
    (the image before it is bad too). The image is marked bad before that
    event is logged: until it is, the node has not finished deciding.
    """
    phase = (facts['trial'] or {}).get('phase')
    if phase == 'reverting':
        return True
    if phase != 'counting':
        return False
    verdict = facts['last_verdict'] or {}
    running = (facts['image'] or {}).get('sha256')
    this_boot = verdict.get('result') == 'red' and (
        not running or not verdict.get('sha256') or verdict['sha256'] == running)
    return not this_boot or verdict.get('reboot') is not False


def judge(facts, sha256, release):
    """(verdict, settled) of a rollout to the image with this SHA-256 or release."""
    def is_it(entry):
        if not entry:
            return False
        if sha256:
            return entry.get('sha256') == sha256
        return entry.get('release') == release

    if is_it(facts['image']):
        if facts['assessment'] == 'good':
            return 'good', True
        if facts['assessment'] == 'bad':
            return 'bad', not going_back(facts)
        return 'pending', False
    if is_it(facts['staged_image']):
        return 'pending', False
    return 'rolled-back', True


def main():
    argument_spec = dict(
        expect_sha256=dict(type='str'),
        expect_release=dict(type='str'),
        events=dict(type='int', default=200),
    )
    argument_spec.update(COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    status = read_status(module)
    events = read_events(module, module.params['events'])
    facts = node_facts(status, events)
    result = dict(changed=False, ansible_facts=dict(imgroot=facts))
    sha256, release = module.params['expect_sha256'], module.params['expect_release']
    if sha256 or release:
        result['verdict'], result['settled'] = judge(facts, sha256, release)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
