"""The ports several infrastructure modules must agree on, each written once.

``APP_PORT`` is where the app container listens: the image's ``PORT``
(app/Dockerfile) and the app's default ``port`` setting; the task definition,
the target group and the security groups between the load balancer and the
tasks all use it.
"""

APP_PORT = 4000
HTTP_PORT = 80
HTTPS_PORT = 443
POSTGRES_PORT = 5432
