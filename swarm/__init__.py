"""The lab as a Docker Swarm stack: the stack file generated from docker-compose.yml
(stack.py), deployed, waited for, pushed and measured (deploy.py; `python -m swarm`)."""
