"""A session that lives for one request and is never stored.

Django's admin needs `request.session` to exist (its login, logout and password
change views write to it), but in a service it must hold nothing: the operator is
authenticated from the gateway's signed header on every request, and a session kept
here could outlive the gateway's sign-out. This store keeps what is written for the
rest of the request and stores nothing, so no service ever holds a session.
"""

from django.contrib.sessions.backends.base import SessionBase


class RequestOnlySession(SessionBase):
    def exists(self, session_key):
        return False

    def create(self):
        self._session_key = None
        self.modified = True

    def save(self, must_create=False):
        pass

    def delete(self, session_key=None):
        pass

    def load(self):
        return {}

    async def aexists(self, session_key):
        return False

    async def acreate(self):
        self.create()

    async def asave(self, must_create=False):
        pass

    async def adelete(self, session_key=None):
        pass

    async def aload(self):
        return {}

    @classmethod
    def clear_expired(cls):
        pass
