"""swarm/deploy.py's pure parts: which services a wait still waits for, and which images a
stack runs."""

from swarm import deploy


def test_a_service_waits_until_it_runs_all_its_replicas():
    listing = "asynclab_backend 1/1\nasynclab_gateway 0/2\nasynclab_loadgen 2/2 (max 1 per node)\n\n"
    assert deploy.pending(listing) == ["asynclab_gateway 0/2"]
    assert deploy.pending("asynclab_backend 1/1\n") == []
    # Nothing to read is not done either.
    assert deploy.pending("asynclab_backend\n") == ["asynclab_backend"]


def test_the_stack_runs_the_services_and_loadgens_images_and_what_db_and_edge_add():
    env = {"DJANGO_IMAGE": "asynclab:django-3.1", "LAB_IMAGE": "asynclab:latest"}
    assert deploy.images(env) == ["asynclab:django-3.1", "asynclab:latest"]
    both = {**env, "DB": "postgres", "EDGE": "nginx", "POSTGRES_IMAGE": "pg:x", "EDGE_IMAGE": "nginx:x"}
    assert deploy.images(both) == ["asynclab:django-3.1", "asynclab:latest", "nginx:x", "pg:x"]
    assert deploy.images({}) == ["asynclab:latest"]
