"""deluge_ray.models (under construction)."""
