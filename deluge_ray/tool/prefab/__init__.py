"""deluge_ray.tool.prefab (under construction)."""
