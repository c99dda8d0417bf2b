"""Users: people known from the identity provider (matched by OIDC ``sub``) and operators."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from stardag_site.ids import uuid7


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("Users need an e-mail address.")
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. API users appear on first contact with a valid OIDC token (contract §3.4);
    operators may also be created with ``createsuperuser`` and sign in to the admin by password.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    external_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True, help_text="The OIDC `sub` claim."
    )
    email = models.EmailField(max_length=255, unique=True)
    email_verified = models.BooleanField(
        default=False,
        help_text="Whether an identity-provider token said this address is verified. Only a "
                  "verified address matches workspace invites.",
    )
    display_name = models.CharField(max_length=255, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email
