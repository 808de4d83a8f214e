"""deluge_ray.cache (under construction)."""
