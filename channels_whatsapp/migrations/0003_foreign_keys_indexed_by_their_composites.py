# The channel's own index on kept deliveries: ``inbound_by_channel`` leads with it.

import django.db.models.deletion
from django.db import migrations, models

from conversations.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('channels_whatsapp', '0002_pending_recording_pass'),
        ('conversations', '0001_initial'),
    ]

    operations = [
        drop_foreign_key_index(
            model_name='inbounddelivery',
            name='channel',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='conversations.channel'),
            table='channels_whatsapp_inbounddelivery',
            index='channels_whatsapp_inbounddelivery_channel_id_de1e6066',
        ),
    ]
