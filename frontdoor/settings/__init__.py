"""One typed configuration for the whole product.

Defaults run the demo out of the box. Override them with a YAML file (``frontdoor.yaml``
in the project root, or the file named by ``FRONTDOOR_CONFIG``) and then with environment
variables ``FRONTDOOR_<SECTION>__<FIELD>`` (for example ``FRONTDOOR_SYNTH__CHILDREN=1000``).
Nothing else in frontdoor reads the environment: every module takes a ``Settings``.

Each section lives in its own module so that the rooms of the product own their settings.
"""

from __future__ import annotations

from frontdoor.settings.base import Settings, load_settings, project_root

__all__ = ["Settings", "load_settings", "project_root"]
