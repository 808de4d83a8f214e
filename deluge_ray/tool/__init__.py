"""deluge_ray.tool (under construction)."""
