# Foreign keys whose own index another index already serves: ``thread_order``,
# ``one_event_per_seq`` and ``project_name_per_org`` lead with their columns.

import django.db.models.deletion
from django.db import migrations, models

from conversations.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0004_queue_order_to_the_last_tie'),
    ]

    operations = [
        drop_foreign_key_index(
            model_name='dockevent',
            name='membership',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='conversations.membership'),
            table='conversations_dockevent',
            index='conversations_dockevent_membership_id_16f09b08',
        ),
        drop_foreign_key_index(
            model_name='message',
            name='conversation',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='conversations.conversation'),
            table='conversations_message',
            index='conversations_message_conversation_id_f1a2d5e9',
        ),
        drop_foreign_key_index(
            model_name='project',
            name='organization',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='projects', to='conversations.organization'),
            table='conversations_project',
            index='conversations_project_organization_id_fb1e46ec',
        ),
    ]
