from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from core.files.uploads import original_name_field


def sign_in_email(text: str) -> str:
    """An email as accounts store it and sign-in matches it: trimmed, lowercased."""
    return text.strip().lower()


def is_admin_email(email: str) -> bool:
    """True for the configured ADMIN_EMAIL, compared ignoring case."""
    admin_email = settings.ADMIN_EMAIL.strip().lower()
    return bool(admin_email) and email.strip().lower() == admin_email


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password", "image"], validate_unique=False)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Emails are stored lowercased, so sign-in ignores case as uniqueness does.
        return self.get(email=sign_in_email(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    """A listener or an admin. The email is the login and is unique ignoring case."""

    # Stored lowercased (see save), so the unique index is unique ignoring case.
    email = models.EmailField(
        max_length=254,
        unique=True,
        error_messages={"unique": "A user with this email already exists."},
    )
    full_name = models.CharField(max_length=150)
    image = models.ImageField(upload_to="user_images/", blank=True)
    image_original_name = original_name_field()
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin panel.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["full_name"], name="users_user_full_name_idx")]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        """The name people see (the admin's user menu, its history); the email when unset."""
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.get_full_name()

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or is_admin_email(self.email)

    def clean(self) -> None:
        super().clean()
        # Before the form's unique check, so "A@x.com" collides with "a@x.com".
        self.email = self.email.strip().lower()

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        # The ADMIN_EMAIL account always reaches the admin panel.
        if is_admin_email(self.email):
            self.is_staff = True
        super().save(*args, **kwargs)

    def has_perm(self, perm: str, obj=None) -> bool:
        if self.is_active and self.is_admin:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_admin:
            return True
        return super().has_module_perms(app_label)


# How many app passwords one account may hold (users.services.app_password_create).
MAX_APP_PASSWORDS = 20


class AppPassword(models.Model):
    """A named, revocable password for the apps that speak Subsonic (the `/rest/` API).

    The secret is shown once, when made. Stored: its SHA-256 (`key_hash`, to find it from an
    `apiKey`) and a copy sealed with a key derived from SECRET_KEY (`sealed_secret`, for the
    token check); never the secret itself (users/app_password_secrets.py).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_passwords"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField("created", default=timezone.now)
    # Written at most once a minute (users.services.app_password_used).
    last_used_at = models.DateTimeField("last used", null=True, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    sealed_secret = models.CharField(max_length=255, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "app password"

    def __str__(self) -> str:
        return self.name
