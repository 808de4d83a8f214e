"""deluge_ray.client (under construction)."""
