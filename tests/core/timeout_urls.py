"""A test-only route whose one statement outlasts any small statement timeout (PostgreSQL)."""

from django.db import connection
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class SlowQueryView(APIView):
    authentication_classes: list[type] = []

    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
        return Response({"slept": True})


urlpatterns = [path("api/v1/slow", SlowQueryView.as_view())]
