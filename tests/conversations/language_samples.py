"""Short customer messages labelled with their language, for the detector's tests.

``TUNING`` is what the thresholds of ``conversations.language`` were chosen on;
``HELD_OUT`` was not looked at while choosing them. ``tests/conversations/test_language.py``
checks both, each on its own. A label of ``None`` marks a message no person could place
in one language: the detector must stay unsure there."""

from __future__ import annotations

LANGUAGES = ("en", "es", "de", "fr", "it")

TUNING: list[tuple[str, str | None]] = [
    ("Hi, my internet has been down since this morning", "en"),
    ("Can someone call me back about my bill please?", "en"),
    ("Thanks a lot", "en"),
    ("Hola, mi factura de este mes está mal", "es"),
    ("¿Cuándo viene el técnico a instalar la fibra?", "es"),
    ("Muchas gracias", "es"),
    ("Guten Tag, mein Router startet ständig neu", "de"),
    ("Wann kommt der Techniker?", "de"),
    ("Vielen Dank", "de"),
    ("Bonjour, je n'ai plus de connexion depuis hier", "fr"),
    ("Pouvez-vous m'aider avec ma facture ?", "fr"),
    ("Merci beaucoup", "fr"),
    ("Buongiorno, la mia connessione è molto lenta", "it"),
    ("Quando arriva il tecnico per l'installazione?", "it"),
    ("Grazie mille", "it"),
    ("ok", None),
    ("👍", None),
    ("123456", None),
]

HELD_OUT: list[tuple[str, str | None]] = [
    ("I would like to cancel my subscription", "en"),
    ("Where is my order?", "en"),
    ("Quiero cambiar mi tarifa a la más barata", "es"),
    ("No funciona el router desde ayer", "es"),
    ("Ich möchte meinen Vertrag kündigen", "de"),
    ("Das Internet ist sehr langsam heute", "de"),
    ("Je voudrais changer mon forfait", "fr"),
    ("Le technicien n'est jamais venu", "fr"),
    ("Vorrei disdire il mio contratto", "it"),
    ("Il modem non funziona più", "it"),
    ("Taxi", None),
    ("Hotel Bristol", None),
]
