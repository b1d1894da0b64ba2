"""A StatusNotifier host and a notification daemon for the app tests: what
a desktop's panel does.

A desktop shows tray icons by running org.kde.StatusNotifierWatcher on the
session bus; apps register their StatusNotifierItem with it, and the panel
reads the item's icon and opens its menu (com.canonical.dbusmenu). Xvfb has
no panel, so this module plays one: it owns the watcher name, records the
items that register, reads their properties and clicks their menu entries;
it also owns org.freedesktop.Notifications and keeps what it is shown.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from dbus_fast import BusType, Message, MessageType, PropertyAccess, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, dbus_property, method, signal

WATCHER_NAME = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"


class _Watcher(ServiceInterface):
    def __init__(self):
        super().__init__(WATCHER_NAME)
        self.items: list[tuple[str, str]] = []

    @method()
    def RegisterStatusNotifierItem(self, service: "s"):  # noqa: F821 (D-Bus signature)
        # The caller's bus name is filled in by the host loop (see below).
        self.items.append(("", service))
        self.StatusNotifierItemRegistered(service)

    @method()
    def RegisterStatusNotifierHost(self, service: "s"):  # noqa: F821
        pass

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> "as":  # noqa: F821
        return [service for _, service in self.items]

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> "b":  # noqa: F821
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> "i":  # noqa: F821
        return 0

    @signal()
    def StatusNotifierItemRegistered(self, service: "s") -> "s":  # noqa: F821
        return service

    @signal()
    def StatusNotifierHostRegistered(self) -> None:
        return None


class _Notifications(ServiceInterface):
    """org.freedesktop.Notifications, as a desktop's notification daemon."""

    def __init__(self):
        super().__init__("org.freedesktop.Notifications")
        self.shown: list[tuple[str, str]] = []

    @method()
    def Notify(
        self,
        app_name: "s",  # noqa: F821
        replaces_id: "u",  # noqa: F821
        app_icon: "s",  # noqa: F821
        summary: "s",  # noqa: F821
        body: "s",  # noqa: F821
        actions: "as",  # noqa: F821
        hints: "a{sv}",  # noqa: F821
        expire_timeout: "i",  # noqa: F821
    ) -> "u":  # noqa: F821
        self.shown.append((summary, body))
        return len(self.shown)

    @method()
    def GetCapabilities(self) -> "as":  # noqa: F821
        return ["body"]

    @method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return ["test-panel", "socksbox-tests", "1.0", "1.2"]

    @method()
    def CloseNotification(self, notification_id: "u"):  # noqa: F821
        pass


class Panel:
    """Runs the watcher on its own event loop thread; call from tests."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.watcher = _Watcher()
        self.notifications = _Notifications()
        self.senders: list[tuple[str, str]] = []
        self.bus: MessageBus = self._run(self._start())

    def _run(self, coroutine, timeout: float = 15.0):
        future: Future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    async def _start(self) -> MessageBus:
        bus = await MessageBus(bus_type=BusType.SESSION).connect()

        # Record who registered: an item may give a path only, and then its
        # bus name is the caller's.
        def handler(message):
            if message.member == "RegisterStatusNotifierItem" and message.body:
                self.senders.append((message.sender, message.body[0]))
            return None

        bus.add_message_handler(handler)
        bus.export(WATCHER_PATH, self.watcher)
        await bus.request_name(WATCHER_NAME)
        bus.export("/org/freedesktop/Notifications", self.notifications)
        await bus.request_name("org.freedesktop.Notifications")
        self.watcher.StatusNotifierHostRegistered()
        return bus

    def registered(self) -> list[tuple[str, str]]:
        """(bus name, object path) of every registered item."""
        found = []
        for sender, service in self.senders:
            if service.startswith("/"):
                found.append((sender, service))
            else:
                found.append((service, "/StatusNotifierItem"))
        return found

    def item_property(self, item: tuple[str, str], name: str):
        return self._run(self._get(item, "org.kde.StatusNotifierItem", name))

    async def _get(self, item, interface: str, name: str):
        bus_name, path = item
        introspection = await self.bus.introspect(bus_name, path)
        proxy = self.bus.get_proxy_object(bus_name, path, introspection)
        props = proxy.get_interface("org.freedesktop.DBus.Properties")
        value = await props.call_get(interface, name)
        return value.value

    def menu_labels(self, item: tuple[str, str]) -> dict[str, int]:
        """Label -> id of the item's menu entries, those of its submenus
        included (a panel asks a submenu's entries when it opens)."""
        return self._run(self._labels(item))

    def menu_entries(self, item: tuple[str, str], submenu: str) -> list[tuple[str, bool]]:
        """The (label, enabled) entries of a submenu, in order, separators
        left out."""
        return self._run(self._entries(item, submenu))

    def menu_top(self, item: tuple[str, str]) -> list[tuple[str, dict]]:
        """The menu's own entries in order: (label, properties), the
        properties as plain values ("enabled", "toggle-type": "checkmark",
        "toggle-state": 0 or 1, ...); a separator's label is "-"."""
        return self._run(self._top(item))

    async def _top(self, item) -> list[tuple[str, dict]]:
        menu = await self._menu(item)
        entries = []
        for _id, props, _ in await self._children(menu, 0):
            plain = {name: value.value for name, value in props.items()}
            label = "-" if plain.get("type") == "separator" else plain.get("label", "").replace("_", "")
            entries.append((label, plain))
        return entries

    async def _labels(self, item) -> dict[str, int]:
        menu = await self._menu(item)
        labels = {}
        for entry_id, props, children in await self._children(menu, 0):
            label = props.get("label")
            if label is not None:
                labels[label.value.replace("_", "")] = entry_id
            if children or self._is_submenu(props):
                for sub_id, sub_props, _ in await self._children(menu, entry_id):
                    sub_label = sub_props.get("label")
                    if sub_label is not None:
                        labels[sub_label.value.replace("_", "")] = sub_id
        return labels

    async def _entries(self, item, submenu: str) -> list[tuple[str, bool]]:
        menu = await self._menu(item)
        labels = await self._labels(item)
        if submenu not in labels:
            raise AssertionError(f"the tray menu has no {submenu!r}: {sorted(labels)}")
        entries = []
        for _id, props, _ in await self._children(menu, labels[submenu]):
            label = props.get("label")
            if label is None or props.get("type", Variant("s", "")).value == "separator":
                continue
            enabled = props.get("enabled", Variant("b", True)).value
            entries.append((label.value.replace("_", ""), enabled))
        return entries

    @staticmethod
    def _is_submenu(props) -> bool:
        display = props.get("children-display")
        return display is not None and display.value == "submenu"

    async def _children(self, menu, parent: int) -> list:
        """The entries under parent (0: the menu itself), after telling the
        item the submenu is about to show, as a panel does."""
        if parent:
            await menu.call_about_to_show(parent)
        _revision, layout = await menu.call_get_layout(parent, 1, [])
        return [child.value for child in layout[2]]

    def click(self, item: tuple[str, str], entry_id: int):
        self._run(self._click(item, entry_id))

    async def _click(self, item, entry_id: int):
        menu = await self._menu(item)
        await menu.call_event(entry_id, "clicked", Variant("i", 0), 0)

    async def _menu(self, item):
        bus_name, _ = item
        menu_path = await self._get(item, "org.kde.StatusNotifierItem", "Menu")
        introspection = await self.bus.introspect(bus_name, menu_path)
        return self.bus.get_proxy_object(bus_name, menu_path, introspection).get_interface("com.canonical.dbusmenu")

    def lock_keyring(self) -> None:
        """Locks the login keyring, as a desktop does after a timeout."""
        self._run(self._lock())

    async def _lock(self):
        name, path = "org.freedesktop.secrets", "/org/freedesktop/secrets"
        introspection = await self.bus.introspect(name, path)
        service = self.bus.get_proxy_object(name, path, introspection).get_interface("org.freedesktop.Secret.Service")
        collection = await service.call_read_alias("default")
        await service.call_lock([collection])

    def unlock_keyring(self, password: str) -> None:
        """Unlocks the login keyring again with its password, without a
        prompt (gnome-keyring's own interface for that), and checks it."""
        self._run(self._unlock(password))

    async def _unlock(self, password: str):
        name, path = "org.freedesktop.secrets", "/org/freedesktop/secrets"

        async def call(interface, member, signature, body, on=path):
            reply = await self.bus.call(
                Message(destination=name, path=on, interface=interface, member=member, signature=signature, body=body)
            )
            if reply.message_type == MessageType.ERROR:
                raise AssertionError(f"{member}: {reply.error_name} {reply.body}")
            return reply.body

        service = "org.freedesktop.Secret.Service"
        _, session = await call(service, "OpenSession", "sv", ["plain", Variant("s", "")])
        (collection,) = await call(service, "ReadAlias", "s", ["default"])
        secret = [session, b"", password.encode(), "text/plain"]
        await call(
            "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
            "UnlockWithMasterPassword",
            "o(oayays)",
            [collection, secret],
        )
        (locked,) = await call(
            "org.freedesktop.DBus.Properties",
            "Get",
            "ss",
            ["org.freedesktop.Secret.Collection", "Locked"],
            on=collection,
        )
        if locked.value:
            raise AssertionError("the keyring is still locked after unlocking it")

    def secret_items(self, attributes: dict[str, str]) -> list[str]:
        """The paths of the keyring's items with these attributes (locked or
        not), through the Secret Service's SearchItems."""
        return self._run(self._search(attributes))

    async def _search(self, attributes: dict[str, str]) -> list[str]:
        name, path = "org.freedesktop.secrets", "/org/freedesktop/secrets"
        introspection = await self.bus.introspect(name, path)
        service = self.bus.get_proxy_object(name, path, introspection).get_interface("org.freedesktop.Secret.Service")
        unlocked, locked = await service.call_search_items(attributes)
        return list(unlocked) + list(locked)

    def notices(self) -> list[str]:
        """The bodies of the notifications shown so far."""
        return [body for _summary, body in self.notifications.shown]

    def close(self):
        try:
            self.bus.disconnect()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
