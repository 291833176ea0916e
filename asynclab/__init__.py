"""Code shared by the lab's services: it imports neither the backend nor the gateway."""
