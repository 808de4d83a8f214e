"""deluge_ray.pipelines (under construction)."""
