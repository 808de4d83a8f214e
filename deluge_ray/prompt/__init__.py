"""deluge_ray.prompt (under construction)."""
