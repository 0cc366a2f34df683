"""Local AWS emulator for deploying the stacks without an AWS account.

``python -m emulator`` starts moto's server on 127.0.0.1 (port 5010, or
``--port`` / ``EMULATOR_PORT``) with what moto 5.2.1 lacks for our stacks:
Global Accelerator (:mod:`emulator.globalaccelerator`), Application Auto Scaling
tagging (:mod:`emulator.appautoscaling_tags`), AWS managed IAM policies, and
fixes where moto answers differently from AWS (:mod:`emulator.fidelity`).
Point Terraform at it with ``AWS_ENDPOINT_URL=http://127.0.0.1:5010``.
"""
