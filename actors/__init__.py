"""Ray actor classes of deluge_ray, installed as ``deluge_ray.actors``."""
