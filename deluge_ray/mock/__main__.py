"""``python -m deluge_ray.mock``: run the mock provider in the foreground."""

from .cli import main

raise SystemExit(main())
