"""The rows the /api/db/ endpoints read, and the SQL expression that waits in the database."""

from django.db import models
from django.db.models import Func, IntegerField, Value
from django.db.utils import NotSupportedError

from .database import SLEEP_FUNCTION


class Item(models.Model):
    """A small catalogue row; migration 0002 seeds database.SEED_ROWS of them."""

    name = models.CharField(max_length=40, unique=True)
    price_cents = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "price_cents": self.price_cents}


class Sleep(Func):
    """A column whose value (1) the database computes by waiting `seconds`.

    Annotated on a one-row query it makes that query take `seconds` in the database; the
    seconds are a bound parameter, never SQL text.
    """

    output_field = IntegerField()

    def __init__(self, seconds: float) -> None:
        super().__init__(Value(float(seconds)))

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"Sleep has no SQL for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        # pg_sleep returns void: select a constant from it so the column is an integer.
        return super().as_sql(compiler, connection, template="(SELECT 1 FROM pg_sleep(%(expressions)s))", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function=SLEEP_FUNCTION, **extra)
