"""The standard case categories (citizen problems plus the codes alarms and inspections use)."""

from django.db import migrations

# (code, parent code, name, working days to handle, public, anonymous allowed, keywords)
CATEGORIES = [
    ("city", None, "市容环境", 5, True, True, ""),
    ("city.road", "city", "道路设施破损", 5, True, True, "路面 坑洼 井盖 路灯"),
    ("city.sanitation", "city", "环境卫生", 2, True, True, "垃圾 保洁 污水"),
    ("city.greening", "city", "园林绿化", 5, True, True, "树木 绿地 草坪"),
    ("city.illegal_building", "city", "违法建设", 7, True, True, "违建 搭建"),
    ("city.vending", "city", "占道经营", 2, True, True, "摆摊 占道"),
    ("env", None, "生态环境", 5, True, True, ""),
    ("env.air", "env", "大气污染", 3, True, True, "烟 异味 焚烧"),
    ("env.dust", "env", "扬尘污染", 3, True, True, "扬尘 渣土"),
    ("env.noise", "env", "环境噪声超标", 3, True, True, "噪声 施工"),
    ("env.water", "env", "水体污染", 5, True, True, "河道 排污"),
    ("safety", None, "公共安全", 3, True, False, ""),
    ("site.violation", "safety", "工地违规", 3, False, False, "工地 安全帽 围挡"),
    ("pipe.leak", "safety", "管线泄漏", 1, True, False, "燃气 漏水 管道"),
    ("device.fault", "safety", "设备故障", 3, False, False, "传感器 离线"),
    ("safety.fire", "safety", "消防隐患", 2, True, True, "消防通道 电动车"),
    ("social", None, "社会事务", 5, True, True, ""),
    ("social.noise", "social", "噪声扰民", 3, True, True, "装修 广场舞 夜间"),
    ("social.dispute", "social", "邻里纠纷", 7, True, False, "矛盾 纠纷"),
    ("social.property", "social", "物业管理", 5, True, True, "物业 电梯 停车"),
    ("social.advice", "social", "咨询建议", 5, True, True, "建议 咨询"),
]


def create(apps, schema_editor):
    category_model = apps.get_model("cases", "CaseCategory")
    by_code = {}
    for order, (code, parent, name, days, public, anonymous, keywords) in enumerate(CATEGORIES):
        parent_obj = by_code.get(parent)
        obj, _created = category_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": parent_obj,
                "handle_days": days,
                "is_public": public,
                "allow_anonymous": anonymous,
                "keywords": keywords,
                "sort_order": order * 10,
            },
        )
        obj.path = f"{parent_obj.path if parent_obj else '/'}{obj.pk}/"
        obj.depth = obj.path.count("/") - 2
        obj.save(update_fields=["path", "depth"])
        by_code[code] = obj


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
