"""Framework adapters: each turns a framework request into a Delivery and back into a response.

Import the one you use; each needs its own extra and imports only its own framework:

* ``hookseal.contrib.flask`` (``pip install 'hookseal[flask]'``): ``@verify_webhook``,
  ``HookSeal``;
* ``hookseal.contrib.django`` (``hookseal[django]``): ``@verify_webhook``,
  ``WebhookMiddleware``, ``DjangoCacheNonceStore``;
* ``hookseal.contrib.starlette`` (``hookseal[starlette]``): ``WebhookMiddleware``, a pure ASGI
  middleware;
* ``hookseal.contrib.fastapi`` (``hookseal[fastapi]``): ``Depends(verify_webhook(verifier))``;
* ``hookseal.contrib.aiohttp`` (``hookseal[aiohttp]``): ``@verify_webhook``,
  ``WebhookMiddleware``;
* ``hookseal.contrib.litestar`` (``hookseal[litestar]``): ``webhook_middleware``,
  ``provide_webhook``;
* ``hookseal.contrib.aws_lambda`` (no extra): ``@verify_webhook`` for API Gateway (REST and
  HTTP APIs), Lambda function URLs and ALB targets.

Event sinks for metrics and traces: ``hookseal.contrib.prometheus`` (``hookseal[prometheus]``)
and ``hookseal.contrib.opentelemetry`` (``hookseal[opentelemetry]``).

The same vocabulary in each: ``verify_webhook`` protects one endpoint, ``WebhookMiddleware``
protects the routes it is given, the verified delivery is called ``webhook`` wherever it is
stored (``g.webhook``, ``request.webhook``, ``request.state.webhook``), ``get_webhook(request)``
returns it (``LookupError`` when the request was not verified), and ``WebhookRejected`` is the
exception for a refused delivery where the framework needs one.

Importing ``hookseal`` or ``hookseal.contrib`` never imports a framework.
"""

from __future__ import annotations

__all__: list[str] = []
