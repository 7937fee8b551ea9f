# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """What every imgroot.fleet module documents alike."""

    DOCUMENTATION = r'''
options:
  hostpart:
    description:
      - The host partition's directory (C(imgroot --hostpart)); by default the one the node booted from.
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
author:
  - imgroot authors
'''
