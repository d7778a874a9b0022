"""Framework adapters: each turns a framework request into a Delivery and back into a response.

Import the one you use; each needs its own extra and imports only its own framework:

* ``hookseal.contrib.flask`` (``pip install 'hookseal[flask]'``): ``@verify_webhook``,
  ``HookSeal``;
* ``hookseal.contrib.django`` (``hookseal[django]``): ``@webhook_view``, ``HookSealMiddleware``,
  ``DjangoCacheNonceStore``;
* ``hookseal.contrib.starlette`` (``hookseal[starlette]``): ``HookSealMiddleware``, a pure ASGI
  middleware;
* ``hookseal.contrib.fastapi`` (``hookseal[fastapi]``): ``Depends(verified_webhook(verifier))``.

Importing ``hookseal`` or ``hookseal.contrib`` never imports a framework.
"""

from __future__ import annotations

__all__: list[str] = []
