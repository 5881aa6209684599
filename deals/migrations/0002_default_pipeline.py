from django.db import migrations

DEFAULT_PIPELINE = [
    # name, outcome, default win probability, order
    ("Qualification", "open", 10, 10),
    ("Proposal", "open", 40, 20),
    ("Negotiation", "open", 70, 30),
    ("Won", "won", 100, 40),
    ("Lost", "lost", 0, 50),
]


def create_default_pipeline(apps, schema_editor):
    stage_model = apps.get_model("deals", "PipelineStage")
    for name, outcome, probability, order in DEFAULT_PIPELINE:
        stage_model.objects.get_or_create(
            name=name,
            defaults={"outcome": outcome, "default_win_probability": probability, "order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial")]

    operations = [migrations.RunPython(create_default_pipeline, migrations.RunPython.noop)]
