#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: imgroot_revert
short_description: Make an imgroot node go back to its previous image at the next boot
version_added: "0.1.0"
description:
  - Runs C(imgroot revert) on the node - the next boot goes back to C(hn-root-old.img), and the
    current image is kept as C(hn-root-broken.img). With O(state=cancelled), C(imgroot revert --cancel)
    drops a pending revert.
  - Idempotent - a revert already pending (or none pending, for V(cancelled)) is no change.
options:
  state:
    description:
      - V(pending) asks for the revert, V(cancelled) withdraws one.
    type: str
    choices: [pending, cancelled]
    default: pending
  unstage:
    description:
      - Remove a staged C(hn-root-new.img) instead of refusing the revert (C(--unstage)).
    type: bool
    default: false
notes:
  - Needs the C(imgroot) command on the node, Python 3 and root. The revert happens at the next
    boot - reboot the node (V(needs_reboot)).
extends_documentation_fragment:
  - imgroot.fleet.common
'''

EXAMPLES = r'''
- name: Go back to the previous image
  imgroot.fleet.imgroot_revert:
  register: revert

- name: Boot it
  ansible.builtin.reboot:
  when: revert.needs_reboot
'''

RETURN = r'''
changed:
  description: The revert flag was written (or removed, for V(cancelled)); in check mode - would be.
  returned: always
  type: bool
needs_reboot:
  description: A revert is pending - the node goes back at its next boot.
  returned: always
  type: bool
reverts_to:
  description: The image the next boot goes back to (C(hn-root-old.img)) - V(release), V(version), V(sha256); null when none.
  returned: always
  type: dict
msg:
  description: What happened, in words.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.imgroot.fleet.plugins.module_utils.imgroot import (
    COMMON_ARGS, image, imgroot_command, read_status, release_of, run_imgroot)


def main():
    argument_spec = dict(
        state=dict(type='str', choices=['pending', 'cancelled'], default='pending'),
        unstage=dict(type='bool', default=False),
    )
    argument_spec.update(COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    status = read_status(module)
    old = image(status, 'old')
    reverts_to = None
    if old.get('present'):
        release, version = release_of(old)
        reverts_to = dict(release=release, version=version, sha256=old.get('sha256'))
    pending = bool(status.get('revert_pending'))
    want = module.params['state'] == 'pending'

    if pending == want:
        module.exit_json(changed=False, needs_reboot=pending, reverts_to=reverts_to,
                         msg='a revert is pending' if pending else 'no revert is pending')
    if want and not old.get('present'):
        module.fail_json(msg='there is no hn-root-old.img to go back to')
    if want and status.get('staged') and not module.params['unstage']:
        module.fail_json(msg='an image is staged: the boot after the revert would start it '
                             '(unstage: true removes it)')
    if not module.check_mode:
        args = ['--cancel'] if not want else (['--unstage'] if module.params['unstage'] else [])
        run_imgroot(module, imgroot_command(module, 'revert', *args))
    module.exit_json(changed=True, needs_reboot=want, reverts_to=reverts_to,
                     msg=('asked the next boot to go back to hn-root-old.img' if want
                          else 'cancelled the pending revert'))


if __name__ == '__main__':
    main()
