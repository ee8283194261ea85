"""Request middleware: the signed-in user is the actor of what a request captures.

It also sends a signed-out htmx request of activityui to the sign-in page as a whole-window
redirect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from activityui.context import request_context


class ActivityUIMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        with request_context(request):
            response = cast(HttpResponseBase, self.get_response(request))
        return sign_in_for_htmx(request, response)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        with request_context(request):
            response = await cast(Awaitable[HttpResponseBase], self.get_response(request))
        return sign_in_for_htmx(request, response)


def sign_in_for_htmx(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """htmx follows a redirect inside its request and would swap the sign-in page into a
    banner or a list (a poll after the session expired). For activityui's URLs, have htmx
    load the sign-in page in the whole window instead, coming back to the current page."""
    htmx = getattr(request, "htmx", None)
    match = getattr(request, "resolver_match", None)
    if response.status_code != 302 or not htmx or htmx.boosted or match is None:
        return response
    if "activityui" not in match.namespaces:
        return response
    sign_in = urlsplit(resolve_url(settings.LOGIN_URL)).path
    if urlsplit(response["Location"]).path != sign_in:
        return response
    vary = ["HX-Request", "HX-Boosted", "X-Activityui-Lazy"]
    if request.headers.get("X-Activityui-Lazy"):
        # a part that loads itself into a page the visitor may see (the timeline tag) never
        # takes the window away: it stays as it is, with its plain link (204: nothing swapped)
        quiet = HttpResponse(status=204)
        patch_vary_headers(quiet, vary)
        return quiet
    back = htmx.current_url_abs_path or request.get_full_path()
    redirect = HttpResponseClientRedirect(redirect_to_login(back)["Location"], status=204)
    patch_vary_headers(redirect, [*vary, "HX-Current-URL"])  # back to the page it was on
    return redirect
