"""Build ``iscedf2013.ttl``: ISCED-F 2013 fields of education and training as SKOS.

Standard library only. Codes, hierarchy and English labels come from the European University
Foundation's ``data/isced.php``; German and French labels from its ``translations/{de,fr}/LC_MESSAGES/
isced.po`` (EuropeanUniversityFoundation/isced_php at ac5056ab82c6, MIT; ISCED-F 2013 (c) UNESCO UIS).
Arabic, Chinese, Russian and Spanish labels are eduxchange's translations, kept in this file
(:data:`ADDED`, :data:`INTERDISCIPLINARY` and :data:`QUALIFIERS`).

The concepts carry the IRIs ESCO publishes for ISCED-F (``http://data.europa.eu/esco/isced-f/{code}``,
scheme ``http://data.europa.eu/esco/concept-scheme/isced-f``). Code 99 "Field unknown" (and 999,
9999) is left out: it is a statistical placeholder, not a field, and we ship no IRI we cannot point
to in ESCO.

Regenerate (from the repository root, with the three source files in one folder)::

    python vocabularies/build_iscedf.py SOURCE_DIR > vocabularies/iscedf2013.ttl

where ``SOURCE_DIR`` holds ``isced-f-2013_euf_isced.php``, ``isced-f-2013_labels_de.po`` and
``isced-f-2013_labels_fr.po`` (the names used in the project's reference material, ``skos/isced/``).
The output is deterministic, so a rebuild of unchanged sources gives an identical file.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Field", "build", "main", "parse_php", "parse_po"]

SCHEME = "http://data.europa.eu/esco/concept-scheme/isced-f"
NAMESPACE = "http://data.europa.eu/esco/isced-f/"
EXCLUDED = frozenset({"99", "999", "9999"})
TITLE_EN = "International Standard Classification of Education: Fields of Education and Training 2013"
ADDED_LANGS = ("ar", "zh", "ru", "es")

#: eduxchange's translations of every base label (en -> ar, zh, ru, es). Labels of the form
#: "X not further defined", "X not elsewhere classified" are built from X with :data:`QUALIFIERS`;
#: "Inter-disciplinary programmes and qualifications involving x" come from :data:`INTERDISCIPLINARY`.
ADDED: dict[str, tuple[str, str, str, str]] = {
    "Generic programmes and qualifications": (
        "البرامج والمؤهلات العامة", "通用课程和资格", "Общие программы и квалификации",
        "Programas y certificaciones genéricos"),
    "Basic programmes and qualifications": (
        "البرامج والمؤهلات الأساسية", "基础课程和资格", "Базовые программы и квалификации",
        "Programas y certificaciones básicos"),
    "Literacy and numeracy": (
        "القراءة والكتابة والحساب", "读写和算术", "Грамотность и навыки счёта",
        "Alfabetización y aritmética elemental"),
    "Personal skills and development": (
        "المهارات الشخصية والتنمية الذاتية", "个人技能与发展", "Личные навыки и развитие",
        "Competencias personales y desarrollo"),
    "Education": ("التعليم", "教育", "Образование", "Educación"),
    "Education science": ("علوم التربية", "教育科学", "Педагогические науки", "Ciencias de la educación"),
    "Training for pre-school teachers": (
        "تدريب معلمي مرحلة ما قبل المدرسة", "学前教师培训",
        "Подготовка воспитателей дошкольных учреждений",
        "Formación de docentes de educación preescolar"),
    "Teacher training without subject specialisation": (
        "تدريب المعلمين دون تخصص في مادة", "无学科专业的教师培训",
        "Подготовка учителей без предметной специализации",
        "Formación de docentes sin especialización en asignaturas"),
    "Teacher training with subject specialisation": (
        "تدريب المعلمين مع التخصص في مادة", "有学科专业的教师培训",
        "Подготовка учителей с предметной специализацией",
        "Formación de docentes con especialización en asignaturas"),
    "Arts and humanities": ("الفنون والعلوم الإنسانية", "艺术与人文", "Искусство и гуманитарные науки",
                            "Artes y humanidades"),
    "Arts": ("الفنون", "艺术", "Искусство", "Artes"),
    "Audio-visual techniques and media production": (
        "التقنيات السمعية البصرية وإنتاج الوسائط", "视听技术和媒体制作",
        "Аудиовизуальные технологии и медиапроизводство",
        "Técnicas audiovisuales y producción de medios"),
    "Fashion, interior and industrial design": (
        "تصميم الأزياء والتصميم الداخلي والصناعي", "时装、室内和工业设计",
        "Дизайн одежды, интерьера и промышленный дизайн", "Diseño de modas, interiores e industrial"),
    "Fine arts": ("الفنون الجميلة", "美术", "Изобразительное искусство", "Bellas artes"),
    "Handicrafts": ("الحرف اليدوية", "手工艺", "Ремёсла", "Artesanías"),
    "Music and performing arts": ("الموسيقى وفنون الأداء", "音乐和表演艺术",
                                  "Музыка и исполнительские искусства", "Música y artes escénicas"),
    "Humanities (except languages)": (
        "العلوم الإنسانية (باستثناء اللغات)", "人文学科（语言除外）", "Гуманитарные науки (кроме языков)",
        "Humanidades (excepto idiomas)"),
    "Religion and theology": ("الدين واللاهوت", "宗教和神学", "Религия и теология", "Religión y teología"),
    "History and archaeology": ("التاريخ وعلم الآثار", "历史和考古", "История и археология",
                                "Historia y arqueología"),
    "Philosophy and ethics": ("الفلسفة والأخلاق", "哲学和伦理学", "Философия и этика", "Filosofía y ética"),
    "Languages": ("اللغات", "语言", "Языки", "Idiomas"),
    "Language acquisition": ("اكتساب اللغة", "语言习得", "Изучение языков", "Adquisición de idiomas"),
    "Literature and linguistics": ("الأدب واللسانيات", "文学和语言学", "Литература и лингвистика",
                                   "Literatura y lingüística"),
    "Social sciences, journalism and information": (
        "العلوم الاجتماعية والصحافة والإعلام", "社会科学、新闻和信息",
        "Социальные науки, журналистика и информация", "Ciencias sociales, periodismo e información"),
    "Social and behavioural sciences": (
        "العلوم الاجتماعية والسلوكية", "社会和行为科学", "Социальные и поведенческие науки",
        "Ciencias sociales y del comportamiento"),
    "Economics": ("الاقتصاد", "经济学", "Экономика", "Economía"),
    "Political sciences and civics": (
        "العلوم السياسية والتربية المدنية", "政治学和公民学", "Политические науки и обществоведение",
        "Ciencias políticas y educación cívica"),
    "Psychology": ("علم النفس", "心理学", "Психология", "Psicología"),
    "Sociology and cultural studies": (
        "علم الاجتماع والدراسات الثقافية", "社会学和文化研究", "Социология и культурология",
        "Sociología y estudios culturales"),
    "Journalism and information": ("الصحافة والإعلام", "新闻和信息", "Журналистика и информация",
                                   "Periodismo e información"),
    "Journalism and reporting": ("الصحافة والتقارير الإخبارية", "新闻与报道",
                                 "Журналистика и репортёрская деятельность", "Periodismo y reportajes"),
    "Library, information and archival studies": (
        "علوم المكتبات والمعلومات والأرشيف", "图书馆、信息和档案学",
        "Библиотечное дело, информационные и архивные науки",
        "Bibliotecología, información y archivística"),
    "Business, administration and law": (
        "الأعمال التجارية والإدارة والقانون", "商业、管理和法律", "Бизнес, администрирование и право",
        "Administración de empresas y derecho"),
    "Business and administration": ("الأعمال التجارية والإدارة", "商业和管理", "Бизнес и администрирование",
                                    "Negocios y administración"),
    "Accounting and taxation": ("المحاسبة والضرائب", "会计和税务", "Бухгалтерский учёт и налогообложение",
                                "Contabilidad e impuestos"),
    "Finance, banking and insurance": ("المالية والمصارف والتأمين", "金融、银行和保险",
                                       "Финансы, банковское дело и страхование",
                                       "Finanzas, banca y seguros"),
    "Management and administration": ("الإدارة والتنظيم", "管理和行政", "Менеджмент и администрирование",
                                      "Gestión y administración"),
    "Marketing and advertising": ("التسويق والإعلان", "市场营销和广告", "Маркетинг и реклама",
                                  "Mercadotecnia y publicidad"),
    "Secretarial and office work": ("أعمال السكرتارية والمكاتب", "秘书和办公室工作",
                                    "Секретарская и офисная работа",
                                    "Secretariado y trabajo de oficina"),
    "Wholesale and retail sales": ("البيع بالجملة والتجزئة", "批发和零售", "Оптовая и розничная торговля",
                                   "Ventas al por mayor y al por menor"),
    "Work skills": ("مهارات العمل", "工作技能", "Профессиональные навыки", "Competencias laborales"),
    "Law": ("القانون", "法律", "Право", "Derecho"),
    "Natural sciences, mathematics and statistics": (
        "العلوم الطبيعية والرياضيات والإحصاء", "自然科学、数学和统计",
        "Естественные науки, математика и статистика",
        "Ciencias naturales, matemáticas y estadística"),
    "Biological and related sciences": ("العلوم البيولوجية والعلوم ذات الصلة", "生物及相关科学",
                                        "Биологические и смежные науки", "Ciencias biológicas y afines"),
    "Biology": ("علم الأحياء", "生物学", "Биология", "Biología"),
    "Biochemistry": ("الكيمياء الحيوية", "生物化学", "Биохимия", "Bioquímica"),
    "Environment": ("البيئة", "环境", "Окружающая среда", "Medio ambiente"),
    "Environmental sciences": ("علوم البيئة", "环境科学", "Науки об окружающей среде",
                               "Ciencias ambientales"),
    "Natural environments and wildlife": ("البيئات الطبيعية والحياة البرية", "自然环境和野生动植物",
                                          "Природная среда и дикая природа",
                                          "Entornos naturales y vida silvestre"),
    "Physical sciences": ("العلوم الفيزيائية", "物质科学", "Физические науки", "Ciencias físicas"),
    "Chemistry": ("الكيمياء", "化学", "Химия", "Química"),
    "Earth sciences": ("علوم الأرض", "地球科学", "Науки о Земле", "Ciencias de la tierra"),
    "Physics": ("الفيزياء", "物理学", "Физика", "Física"),
    "Mathematics and statistics": ("الرياضيات والإحصاء", "数学和统计", "Математика и статистика",
                                   "Matemáticas y estadística"),
    "Mathematics": ("الرياضيات", "数学", "Математика", "Matemáticas"),
    "Statistics": ("الإحصاء", "统计学", "Статистика", "Estadística"),
    "Information and Communication Technologies (ICTs)": (
        "تكنولوجيا المعلومات والاتصالات", "信息和通信技术",
        "Информационно-коммуникационные технологии (ИКТ)",
        "Tecnologías de la información y la comunicación (TIC)"),
    "Information and communication technologies": (
        "تكنولوجيا المعلومات والاتصالات", "信息和通信技术", "Информационно-коммуникационные технологии",
        "Tecnologías de la información y la comunicación"),
    "Computer use": ("استخدام الحاسوب", "计算机使用", "Использование компьютеров", "Uso de computadoras"),
    "Database and network design and administration": (
        "تصميم وإدارة قواعد البيانات والشبكات", "数据库和网络设计与管理",
        "Проектирование и администрирование баз данных и сетей",
        "Diseño y administración de redes y bases de datos"),
    "Software and applications development and analysis": (
        "تطوير البرمجيات والتطبيقات وتحليلها", "软件和应用程序开发与分析",
        "Разработка и анализ программного обеспечения и приложений",
        "Desarrollo y análisis de software y aplicaciones"),
    "Engineering, manufacturing and construction": (
        "الهندسة والتصنيع والبناء", "工程、制造和建筑",
        "Инженерное дело, обрабатывающая промышленность и строительство",
        "Ingeniería, industria y construcción"),
    "Engineering and engineering trades": (
        "الهندسة والمهن الهندسية", "工程和工程技术行业",
        "Инженерное дело и инженерно-технические профессии", "Ingeniería y profesiones afines"),
    "Chemical engineering and processes": ("الهندسة الكيميائية والعمليات", "化学工程和工艺",
                                           "Химическая технология и процессы",
                                           "Ingeniería química y procesos químicos"),
    "Environmental protection technology": ("تكنولوجيا حماية البيئة", "环境保护技术",
                                            "Технологии защиты окружающей среды",
                                            "Tecnología de protección del medio ambiente"),
    "Electricity and energy": ("الكهرباء والطاقة", "电力和能源", "Электричество и энергетика",
                               "Electricidad y energía"),
    "Electronics and automation": ("الإلكترونيات والأتمتة", "电子和自动化", "Электроника и автоматизация",
                                   "Electrónica y automatización"),
    "Mechanics and metal trades": ("الميكانيكا والمهن المعدنية", "机械和金属加工",
                                   "Механика и металлообработка",
                                   "Mecánica y profesiones afines a la metalistería"),
    "Motor vehicles, ships and aircraft": ("المركبات الآلية والسفن والطائرات", "机动车辆、船舶和飞机",
                                           "Автотранспортные средства, суда и летательные аппараты",
                                           "Vehículos de motor, barcos y aeronaves"),
    "Manufacturing and processing": ("التصنيع والمعالجة", "制造和加工", "Производство и переработка",
                                     "Industria y producción"),
    "Food processing": ("تصنيع الأغذية", "食品加工", "Пищевая промышленность", "Procesamiento de alimentos"),
    "Materials (glass, paper, plastic and wood)": (
        "المواد (الزجاج والورق والبلاستيك والخشب)", "材料（玻璃、纸张、塑料和木材）",
        "Материалы (стекло, бумага, пластмасса и древесина)",
        "Materiales (vidrio, papel, plástico y madera)"),
    "Textiles (clothes, footwear and leather)": (
        "المنسوجات (الملابس والأحذية والجلود)", "纺织品（服装、鞋类和皮革）",
        "Текстиль (одежда, обувь и кожа)", "Productos textiles (ropa, calzado y cuero)"),
    "Mining and extraction": ("التعدين والاستخراج", "采矿和开采", "Горное дело и добыча полезных ископаемых",
                              "Minería y extracción"),
    "Architecture and construction": ("العمارة والبناء", "建筑和施工", "Архитектура и строительство",
                                      "Arquitectura y construcción"),
    "Architecture and town planning": ("العمارة وتخطيط المدن", "建筑学和城市规划",
                                       "Архитектура и градостроительство", "Arquitectura y urbanismo"),
    "Building and civil engineering": ("البناء والهندسة المدنية", "建筑和土木工程",
                                       "Строительство и гражданское строительство",
                                       "Construcción e ingeniería civil"),
    "Agriculture, forestry, fisheries and veterinary": (
        "الزراعة والحراجة ومصايد الأسماك والطب البيطري", "农业、林业、渔业和兽医",
        "Сельское хозяйство, лесное хозяйство, рыболовство и ветеринария",
        "Agricultura, silvicultura, pesca y veterinaria"),
    "Agriculture": ("الزراعة", "农业", "Сельское хозяйство", "Agricultura"),
    "Crop and livestock production": ("الإنتاج النباتي والحيواني", "作物和畜牧生产",
                                      "Растениеводство и животноводство",
                                      "Producción agrícola y ganadera"),
    "Horticulture": ("البستنة", "园艺", "Садоводство", "Horticultura"),
    "Forestry": ("الحراجة", "林业", "Лесное хозяйство", "Silvicultura"),
    "Fisheries": ("مصايد الأسماك", "渔业", "Рыболовство", "Pesca"),
    "Veterinary": ("الطب البيطري", "兽医", "Ветеринария", "Veterinaria"),
    "Health and welfare": ("الصحة والرعاية الاجتماعية", "卫生和福利",
                           "Здравоохранение и социальное обеспечение", "Salud y bienestar"),
    "Health": ("الصحة", "卫生", "Здравоохранение", "Salud"),
    "Dental studies": ("طب الأسنان", "牙科", "Стоматология", "Odontología"),
    "Medicine": ("الطب", "医学", "Медицина", "Medicina"),
    "Nursing and midwifery": ("التمريض والقبالة", "护理和助产", "Сестринское дело и акушерство",
                              "Enfermería y obstetricia"),
    "Medical diagnostic and treatment technology": (
        "تكنولوجيا التشخيص والعلاج الطبي", "医疗诊断和治疗技术",
        "Медицинские технологии диагностики и лечения",
        "Tecnología de diagnóstico y tratamiento médico"),
    "Therapy and rehabilitation": ("العلاج وإعادة التأهيل", "治疗和康复", "Терапия и реабилитация",
                                   "Terapia y rehabilitación"),
    "Pharmacy": ("الصيدلة", "药学", "Фармация", "Farmacia"),
    "Traditional and complementary medicine and therapy": (
        "الطب والعلاج التقليدي والتكميلي", "传统和补充医学与疗法",
        "Традиционная и комплементарная медицина и терапия",
        "Medicina y terapia tradicionales y complementarias"),
    "Welfare": ("الرعاية الاجتماعية", "福利", "Социальное обеспечение", "Bienestar"),
    "Care of the elderly and of disabled adults": (
        "رعاية المسنين والبالغين ذوي الإعاقة", "老年人和残疾成人护理",
        "Уход за пожилыми людьми и взрослыми с инвалидностью",
        "Asistencia a adultos mayores y discapacitados"),
    "Child care and youth services": ("رعاية الأطفال وخدمات الشباب", "儿童保育和青少年服务",
                                      "Уход за детьми и услуги для молодёжи",
                                      "Cuidado de niños y servicios para jóvenes"),
    "Social work and counselling": ("العمل الاجتماعي والإرشاد", "社会工作和咨询",
                                    "Социальная работа и консультирование", "Trabajo social y orientación"),
    "Services": ("الخدمات", "服务", "Услуги", "Servicios"),
    "Personal services": ("الخدمات الشخصية", "个人服务", "Персональные услуги", "Servicios personales"),
    "Domestic services": ("الخدمات المنزلية", "家政服务", "Бытовые услуги", "Servicio doméstico"),
    "Hair and beauty services": ("خدمات تصفيف الشعر والتجميل", "美发和美容服务",
                                 "Парикмахерские и косметические услуги",
                                 "Peluquería y tratamientos de belleza"),
    "Hotel, restaurants and catering": ("الفنادق والمطاعم وخدمات الطعام", "酒店、餐厅和餐饮",
                                        "Гостиничное и ресторанное дело, общественное питание",
                                        "Hotelería, restaurantes y servicios de comidas"),
    "Sports": ("الرياضة", "体育", "Спорт", "Deportes"),
    "Travel, tourism and leisure": ("السفر والسياحة والترفيه", "旅行、旅游和休闲", "Путешествия, туризм и досуг",
                                    "Viajes, turismo y actividades recreativas"),
    "Hygiene and occupational health services": (
        "خدمات النظافة والصحة المهنية", "卫生和职业健康服务", "Гигиена и услуги в области охраны труда",
        "Higiene y servicios de salud ocupacional"),
    "Community sanitation": ("الصرف الصحي المجتمعي", "社区环境卫生", "Коммунальная санитария",
                             "Saneamiento de la comunidad"),
    "Occupational health and safety": ("الصحة والسلامة المهنية", "职业健康和安全",
                                       "Охрана труда и техника безопасности",
                                       "Salud y seguridad ocupacional"),
    "Security services": ("خدمات الأمن", "安全服务", "Службы безопасности", "Servicios de seguridad"),
    "Military and defence": ("العلوم العسكرية والدفاع", "军事和国防", "Военное дело и оборона",
                             "Ciencias militares y defensa"),
    "Protection of persons and property": ("حماية الأشخاص والممتلكات", "人身和财产保护",
                                           "Защита людей и имущества", "Protección de personas y bienes"),
    "Transport services": ("خدمات النقل", "运输服务", "Транспортные услуги", "Servicios de transporte"),
}

#: "Inter-disciplinary programmes and qualifications involving x": x -> (ar, zh, ru, es). Written
#: out whole because Arabic, Russian and Spanish inflect x.
INTERDISCIPLINARY: dict[str, tuple[str, str, str, str]] = {
    "education": ("بالتعليم", "教育", "с образованием", "la educación"),
    "humanities": ("بالعلوم الإنسانية", "人文学科", "с гуманитарными науками", "las humanidades"),
    "arts and humanities": ("بالفنون والعلوم الإنسانية", "艺术与人文", "с искусством и гуманитарными науками",
                            "las artes y las humanidades"),
    "social sciences, journalism and information": (
        "بالعلوم الاجتماعية والصحافة والإعلام", "社会科学、新闻和信息",
        "с социальными науками, журналистикой и информацией",
        "las ciencias sociales, el periodismo y la información"),
    "business, administration and law": (
        "بالأعمال التجارية والإدارة والقانون", "商业、管理和法律", "с бизнесом, администрированием и правом",
        "la administración de empresas y el derecho"),
    "natural sciences, mathematics and statistics": (
        "بالعلوم الطبيعية والرياضيات والإحصاء", "自然科学、数学和统计",
        "с естественными науками, математикой и статистикой",
        "las ciencias naturales, las matemáticas y la estadística"),
    "Information and Communication Technologies (ICTs)": (
        "بتكنولوجيا المعلومات والاتصالات", "信息和通信技术",
        "с информационно-коммуникационными технологиями (ИКТ)",
        "las tecnologías de la información y la comunicación (TIC)"),
    "engineering, manufacturing and construction": (
        "بالهندسة والتصنيع والبناء", "工程、制造和建筑",
        "с инженерным делом, обрабатывающей промышленностью и строительством",
        "la ingeniería, la industria y la construcción"),
    "agriculture, forestry, fisheries and veterinary": (
        "بالزراعة والحراجة ومصايد الأسماك والطب البيطري", "农业、林业、渔业和兽医",
        "с сельским хозяйством, лесным хозяйством, рыболовством и ветеринарией",
        "la agricultura, la silvicultura, la pesca y la veterinaria"),
    "health and welfare": ("بالصحة والرعاية الاجتماعية", "卫生和福利",
                           "со здравоохранением и социальным обеспечением", "la salud y el bienestar"),
    "services": ("بالخدمات", "服务", "с услугами", "los servicios"),
}
INTERDISCIPLINARY_TEMPLATES = (
    "البرامج والمؤهلات متعددة التخصصات المتعلقة {x}",
    "涉及{x}的跨学科课程和资格",
    "Междисциплинарные программы и квалификации, связанные {x}",
    "Programas y certificaciones interdisciplinarios relativos a {x}",
)

#: ISCED-F's residual categories, appended to the base label in each added language.
QUALIFIERS: dict[str, tuple[str, str, str, str]] = {
    "not further defined": ("{x} (غير محدد بدقة أكبر)", "{x}（未进一步界定）", "{x} (без дальнейшего уточнения)",
                            "{x} (no definidos más precisamente)"),
    "not elsewhere classified": ("{x} (غير مصنف في مكان آخر)", "{x}（未另分类）",
                                 "{x} (не отнесённые к другим категориям)",
                                 "{x} (no clasificados en otra parte)"),
}

_ENTRY = re.compile(
    r"^\s*'?(?P<key>\d+)'?\s*=>\s*\[\s*"
    r"'label'\s*=>\s*'(?P<label>(?:[^'\\]|\\.)*)',\s*"
    r"'broad'\s*=>\s*'(?P<broad>\d+)',\s*"
    r"'narrow'\s*=>\s*(?:'(?P<narrow>\d+)'|null),\s*"
    r"'detailed'\s*=>\s*(?:'(?P<detailed>\d+)'|null),\s*\]",
    re.M,
)
_PO = re.compile(r'^msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"', re.M)


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One ISCED-F 2013 field: its code (2, 3 or 4 digits), English label and parent code."""

    code: str
    label: str
    parent: str | None


def parse_php(text: str) -> list[Field]:
    """Read the fields from ``data/isced.php`` (a PHP array literal: data, no logic)."""
    fields: list[Field] = []
    for m in _ENTRY.finditer(text):
        code = m["detailed"] or m["narrow"] or m["broad"]
        if code != m["key"].zfill(len(code)):
            raise ValueError(f"isced.php: key {m['key']} does not match code {code}")
        parent = m["narrow"] if m["detailed"] else (m["broad"] if m["narrow"] else None)
        label = m["label"].replace("\\'", "'").replace("\\\\", "\\")
        fields.append(Field(code=code, label=label, parent=parent))
    if len(fields) != text.count("'label' =>"):
        raise ValueError("isced.php: some entries could not be read")
    return fields


def parse_po(text: str) -> dict[str, str]:
    """``msgid -> msgstr`` of a gettext catalogue (single-line entries, as in the source)."""
    return {
        mid.replace('\\"', '"'): mstr.replace('\\"', '"')
        for mid, mstr in _PO.findall(text)
        if mid and mstr
    }


def added_labels(label: str) -> tuple[str, str, str, str]:
    """The eduxchange (ar, zh, ru, es) labels for an English ISCED-F label."""
    if label in ADDED:
        return ADDED[label]
    prefix = "Inter-disciplinary programmes and qualifications involving "
    if label.startswith(prefix):
        x = INTERDISCIPLINARY[label[len(prefix):]]
        return (
            INTERDISCIPLINARY_TEMPLATES[0].format(x=x[0]),
            INTERDISCIPLINARY_TEMPLATES[1].format(x=x[1]),
            INTERDISCIPLINARY_TEMPLATES[2].format(x=x[2]),
            INTERDISCIPLINARY_TEMPLATES[3].format(x=x[3]),
        )
    for qualifier, templates in QUALIFIERS.items():
        if label.endswith(" " + qualifier):
            base = ADDED[label[: -len(qualifier) - 1]]
            return (
                templates[0].format(x=base[0]),
                templates[1].format(x=base[1]),
                templates[2].format(x=base[2]),
                templates[3].format(x=base[3]),
            )
    raise KeyError(f"no translation for ISCED-F label {label!r}")


def _literal(text: str, lang: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}'


def build(php: str, po_de: str, po_fr: str) -> str:
    """Turtle for the whole scheme, from the text of the three source files."""
    fields = [f for f in parse_php(php) if f.code not in EXCLUDED]
    de, fr = parse_po(po_de), parse_po(po_fr)
    children: dict[str, list[str]] = {}
    for f in fields:
        if f.parent is not None:
            children.setdefault(f.parent, []).append(f.code)
    broad = [f.code for f in fields if f.parent is None]
    title_ar_zh_ru_es = (
        "التصنيف الدولي الموحد للتعليم: مجالات التعليم والتدريب 2013",
        "国际教育标准分类：教育与培训领域 2013",
        "Международная стандартная классификация образования: области образования и профессиональной "
        "подготовки 2013",
        "Clasificación Internacional Normalizada de la Educación: campos de educación y capacitación 2013",
    )
    out = [
        "# ISCED-F 2013 fields of education and training, under the IRIs published by ESCO.",
        "# GENERATED by vocabularies/build_iscedf.py: edit the script (or its sources), not this file.",
        "# Codes, hierarchy, en labels: EuropeanUniversityFoundation/isced_php data/isced.php",
        "# at ac5056ab82c6 (MIT); de, fr labels: the same repository's",
        "# translations/{de,fr}/LC_MESSAGES/isced.po (CC BY 4.0, (c) European Union);",
        "# ar, zh, ru, es labels: added by eduxchange. ISCED-F 2013 (c) UNESCO Institute for Statistics.",
        "",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix vann: <http://purl.org/vocab/vann/> .",
        f"@prefix iscedf: <{NAMESPACE}> .",
        "",
        f"<{SCHEME}> a skos:ConceptScheme ;",
        "    dct:title " + ", ".join(
            [_literal(TITLE_EN, "en"), _literal(de[TITLE_EN], "de"), _literal(fr[TITLE_EN], "fr")]
            + [_literal(t, lang) for t, lang in zip(title_ar_zh_ru_es, ADDED_LANGS, strict=True)]
        ) + " ;",
        "    dct:alternative \"ISCED-F 2013\"@en ;",
        "    dct:description " + _literal(
            "The fields of education and training of ISCED-F 2013 (broad: 2 digits, narrow: 3 digits, "
            "detailed: 4 digits), adopted by the UNESCO General Conference in 2013; concept IRIs as "
            "published by ESCO.", "en") + " ;",
        "    dct:source <https://github.com/EuropeanUniversityFoundation/isced_php> ;",
        "    dct:rights \"ISCED-F 2013 (c) UNESCO Institute for Statistics\" ;",
        f"    vann:preferredNamespaceUri \"{NAMESPACE}\" ;",
        "    skos:hasTopConcept " + ", ".join(f"iscedf:{c}" for c in broad) + " .",
    ]
    for f in fields:
        labels = [_literal(f.label, "en"), _literal(de[f.label], "de"), _literal(fr[f.label], "fr")]
        labels += [_literal(t, lang) for t, lang in zip(added_labels(f.label), ADDED_LANGS, strict=True)]
        lines = [
            "",
            f"iscedf:{f.code} a skos:Concept ;",
            "    skos:prefLabel " + ", ".join(labels[:3]) + " ;",
            "    skos:prefLabel " + ", ".join(labels[3:]) + " ;",
            f"    skos:notation \"{f.code}\" ;",
            f"    skos:inScheme <{SCHEME}> ;",
        ]
        if f.parent is None:
            lines.append(f"    skos:topConceptOf <{SCHEME}> ;")
        else:
            lines.append(f"    skos:broader iscedf:{f.parent} ;")
        if f.code in children:
            lines.append("    skos:narrower " + ", ".join(f"iscedf:{c}" for c in children[f.code]) + " ;")
        lines[-1] = lines[-1][:-2] + " ."
        out.extend(lines)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``build_iscedf.py SOURCE_DIR [-o OUTPUT]`` (stdout by default)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("source_dir", type=Path, help="folder with the .php and the two .po files")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    src: Path = args.source_dir

    def read(name: str) -> str:
        return (src / name).read_text(encoding="utf-8")

    turtle = build(read("isced-f-2013_euf_isced.php"), read("isced-f-2013_labels_de.po"),
                   read("isced-f-2013_labels_fr.po"))
    if args.output:
        args.output.write_text(turtle, encoding="utf-8")
    else:
        sys.stdout.write(turtle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
