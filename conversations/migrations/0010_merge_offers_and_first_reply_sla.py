

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0009_conversation_first_reply_sla'),
        ('conversations', '0009_offers_and_detected_languages'),
    ]

    operations = [
    ]
