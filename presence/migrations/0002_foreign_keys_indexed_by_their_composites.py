# The member's own index on presence changes: ``presence_history`` leads with it.

import django.db.models.deletion
from django.db import migrations, models

from conversations.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0001_initial'),
        ('presence', '0001_initial'),
    ]

    operations = [
        drop_foreign_key_index(
            model_name='presencechange',
            name='membership',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='presence_changes', to='conversations.membership'),
            table='presence_presencechange',
            index='presence_presencechange_membership_id_449f6dfc',
        ),
    ]
