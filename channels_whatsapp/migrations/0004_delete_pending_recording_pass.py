# A waiting recording pass is marked in Redis (``conversations.passes``), like every other kind
# of pass, once its delivery has committed.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('channels_whatsapp', '0003_foreign_keys_indexed_by_their_composites'),
    ]

    operations = [
        migrations.DeleteModel(
            name='PendingRecordingPass',
        ),
    ]
