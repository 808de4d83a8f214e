"""deluge_ray.mock (under construction)."""
