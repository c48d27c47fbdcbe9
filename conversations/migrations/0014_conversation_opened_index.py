# Reports read an organization's conversations by when they opened: ``conversation_opened``
# (organization, created_at). It leads with the organization, so the foreign key's own
# index goes, after the new one is in place.

import django.db.models.deletion
from django.db import migrations, models

from conversations.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0013_conversation_waiting_for_an_agent'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['organization', 'created_at'], name='conversation_opened'),
        ),
        drop_foreign_key_index(
            model_name='conversation',
            name='organization',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='conversations.organization'),
            table='conversations_conversation',
            index='conversations_conversation_organization_id_474f7c7e',
        ),
    ]
