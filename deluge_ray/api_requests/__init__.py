"""deluge_ray.api_requests (under construction)."""
