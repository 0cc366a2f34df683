"""Local AWS emulator for deploying the stacks without an AWS account.

``python -m emulator`` starts moto's server on 127.0.0.1 (port 5010, or
``--port`` / ``EMULATOR_PORT``) with what moto 5.2.1 lacks for our stacks:
Global Accelerator (:mod:`emulator.globalaccelerator`) and the network
interfaces it leaves behind (:mod:`emulator.client_ip_interfaces`), Application
Auto Scaling tagging (:mod:`emulator.appautoscaling_tags`), AWS managed IAM
policies, and fixes where moto answers differently from AWS
(:mod:`emulator.fidelity`). It is as strict as AWS where a deployment could
otherwise pass here and fail there: IAM is enforced (:mod:`emulator.access_control`;
the keys ``test``/``test`` are the account's administrator), unlabeled secret
versions are removed (:mod:`emulator.secret_versions`), and EC2 refuses what AWS
refuses (:mod:`emulator.network`).
Point Terraform at it with ``AWS_ENDPOINT_URL=http://127.0.0.1:5010`` and those keys.
"""
