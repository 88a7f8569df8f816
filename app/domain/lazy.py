"""`computed_once`: a property computed on first read and kept, for frozen value objects.

Like `functools.cached_property`, whose Python 3.11 version takes a lock on every first
read; billing periods and charge lines are read hundreds of thousands of times in one run.
The value is stored in the instance's own dict, which a frozen dataclass allows, and from
then on shadows the descriptor, so later reads are plain attribute reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

_T = TypeVar("_T")


class computed_once(Generic[_T]):  # noqa: N801 - used as a decorator, like `property`
    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> computed_once[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value
