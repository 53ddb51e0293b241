"""Labelled corpus of Chinese and mixed-script declaration lines for the risk matcher's quality test.

What is in it
-------------
Lines as they arrive at Chinese export ports (Shenzhen, Yiwu, Guangzhou cross-border e-commerce, post and
express): goods named in Chinese (申报品名), Chinese trade marks in the brand field or inside unsegmented
descriptions, Latin marks glued to Chinese words, full-width letters, Traditional characters from Hong Kong
and Taiwan traders, odd spacing and punctuation, the trade's words for fakes, homophones and look-alike
characters, descriptive use, ordinary words that contain or sound like a mark, licensees, goods outside the
recorded goods, recordations that are not in force, brands nobody recorded and vague descriptions.
Every line carries its category in ``extra["cat"]``; ``python -m tests.risk_corpus.cases_zh`` prints the
counts per label and category and checks the corpus against the recordations. At the time of writing:

=================  ===  ===  =========================================================================
category             I    L  what the lines test
=================  ===  ===  =========================================================================
zh_brand            16    0  Chinese mark alone in the brand field (耐克, 香奈儿, 北面 ...)
zh_desc             18    0  Chinese mark or Chinese model name inside an unsegmented description
glued_latin         17    0  Latin mark or model name glued to Chinese or digits (NIKE运动鞋, lv老花包)
fullwidth            7    0  full-width letters and digits (ＮＩＫＥ, ｉＰｈｏｎｅ１５)
spacing              9    0  spaces, ideographic spaces, brackets, quotes, middle dots, ® inside marks
traditional         12    0  Traditional characters and the Hong Kong / Taiwan forms of the marks
vocab               13    6  counterfeit vocabulary (高仿, A货, 原单, 1:1 ...) with a mark; without one
homophone           22    0  homophones and one-character look-alikes of recorded Chinese marks
homophone_trap       0    4  ordinary words sounding like a mark (标码, 背面, 茶多酚, 平果 the place)
genuine_price        4    0  recorded mark at a genuine price, no licensee
known_infringer      1    0  exporter the holder named as a known infringer
vague                3    4  vague description (礼品, 样品, 配件) with a mark; without one
descriptive          0   20  mark named only to say what the goods fit (适用于, 兼容, 适配, 专用, 用于)
ordinary             0   22  ordinary words containing a mark or part of one (苹果醋, 三星堆, 省劳力)
licensee             0    7  the holder's licensee (recorded id, Chinese company name)
outside_goods        0   10  recorded mark on goods outside the recorded HS headings
status               0    6  expired, revoked, pending or not-yet-valid recordations
unrecorded           0   10  Chinese brands nobody recorded (李宁, 安踏, 华为, 小米 ...)
plain                0   10  ordinary Chinese descriptions of the recorded kinds of goods, no mark
total              122   99  221 lines: 55 % infringing, 36 % legitimate, 9 % descriptive legitimate
=================  ===  ===  =========================================================================

How the lines are labelled
--------------------------
Written from the domain brief, the recordations and trade practice by an engineer who had not read the
matcher's code or tests, so the corpus tests the matcher rather than mirrors it. Labels say what a customs
targeting officer at a Chinese export port should do, not what the matcher happens to do. Customs can only
suspect a recorded right, so the marks of a recordation are its title and aliases in ``registry.json``
plus the Chinese marks in ``registry_zh.json`` (the Simplified, Traditional and Hong Kong / Taiwan forms
the holder uses and would record: 耐克 / 耐吉, 阿迪达斯 / 阿迪達斯 / 愛迪達, 壳牌 / 殼牌 / 蜆殼 ...).
Homophones are deliberately NOT in ``registry_zh.json``: finding them is the matcher's job.

* ``I`` (infringing): customs should suspect infringement of the named, valid recordation. A recorded
  mark in any script, width, spacing or punctuation, alone or glued to other words, or a homophone or
  one-character look-alike of a recorded Chinese mark (奈克 for 耐克, 劳力土 for 劳力士, 売牌 for 壳牌),
  on goods within the recorded HS headings, shipped by someone other than the holder's licensees. A low
  price and counterfeit vocabulary strengthen the suspicion; a genuine price does not clear it; a vague
  description does not hide a mark in the brand field. "Same style as" (同款, 风格) and "imitation of" (仿)
  are not descriptive use: they sell the mark.
* ``L`` (legitimate): no suspicion of a recorded right:

  - descriptive use: the mark only says which branded product the goods fit (适用于苹果手机的保护壳,
    兼容iPhone 15充电线, 三星专用数据线, 兼容乐高的积木), also when the goods are within the recorded
    headings (a third-party charger for a MacBook, a strap for a Rolex);
  - ordinary words that are or contain a mark, or part of one: 苹果 the fruit (新鲜苹果, 苹果醋, 苹果汁,
    an apple-shaped speaker), 潘多拉魔盒 (Pandora's box), 三星堆 and 三星级 (three-star), 北面 as a
    direction, 加拿大鹅绒 (goose down), 省劳力 (labour-saving, not 劳力士), 爱马人士 (horse lovers, not
    爱马仕), 快乐高尔夫 and 欢乐高跷 (乐高 only across a word boundary), 德芙 (another holder's
    chocolate), 白鸽 (dove the bird is not 多芬);
  - ordinary words that sound like a mark: 标码 (true-to-size, sounds like 彪马), 背面 (back side, sounds
    like 北面), 茶多酚 (tea polyphenol, sounds like 多芬), 平果 (a town in Guangxi);
  - counterfeit vocabulary with no recorded mark: such a line names no recorded right, and the words
    have ordinary meanings (高仿真 = life-like, 1:18 = a scale, 复刻版 = re-edition, 尾货 = overstock);
  - the holder's licensees (recorded id, company name in Chinese), even at a low price;
  - recordations expired, revoked, pending or not yet valid on the submission date (2026-11-20);
  - recorded marks on goods outside the recorded HS headings; brands nobody recorded; vague
    descriptions without a mark; ordinary descriptions of the same kinds of goods.

新百伦 is not used as a New Balance mark: in China that name has been held by a third party in litigation
against New Balance, so it is not a mark the holder would record; New Balance appears only in Latin here.

Labels reviewed after the corpus was first run (none changed: each agrees with the rules above)
------------------------------------------------------------------------------------------------
* Chinese names whose recording by the holder is less certain -- 盖璞 (GAP), 乐斯菲斯 (THE NORTH FACE),
  巴宝莉 (BURBERRY's name before 博柏利), 蜆殼 (SHELL in Hong Kong), 耐吉 / 愛迪達 (NIKE, ADIDAS in Taiwan):
  each is a name the holder has used in its market, so it stays in registry_zh.json; a line naming it is
  infringing only through the registry, as the rules say, and would fall with it.
* 快乐高尔夫, 欢乐高跷 on LEGO's goods (9503): 乐高 only across a word boundary, legitimate by the rule
  on ordinary words. 三星堆文创U盘 on Samsung's goods (8523): 三星堆 is a place, legitimate. 苹果造型蓝牙
  音箱 on Apple's goods (8518): an apple-shaped speaker, legitimate. 印有雪山北面风景的卫衣: the north face
  of a mountain. 潘多拉魔盒造型吊坠: Pandora's box, the rule's own example.
* GalaxyS24Ultra手机, AirPodsPro2无线耳机: recorded aliases written together with a model name, infringing
  as "a recorded mark ... glued to other words".
* 迪斯尼 (di si ni), 古奇 (gu qi), 香奈尔, 潘朵拉: 迪斯尼 differs from 迪士尼 only in si/shi, which most of
  southern China does not tell apart; 香奈尔 and 潘朵拉 are homophones outright; 古奇 was a common
  transliteration of GUCCI before 古驰 and is a variant a targeting officer reads as GUCCI, though it is
  no strict homophone (qi/chi) nor a look-alike: the hardest line of the corpus, kept infringing.

Each case: (label, recordation id or None, HS code, brand field, description, unit value USD, extra), as in
``cases.py``. ``extra`` may set ``consignor`` / ``consignee`` (id, name), ``model`` or ``quantity``, and
always sets ``cat`` (the category above), which the declaration builder ignores.
"""

from __future__ import annotations

from collections import Counter

NIKE, ADIDAS, PUMA, LV, GUCCI = "CN-T-C-NIKE", "CN-T-C-ADIDAS", "CN-T-C-PUMA", "CN-T-C-LV", "CN-T-C-GUCCI"
CHANEL, ROLEX, APPLE, SHELL, GAP = "CN-T-C-CHANEL", "CN-T-C-ROLEX", "CN-T-C-APPLE", "CN-T-C-SHELL", "CN-T-C-GAP"
SAMSUNG, SONY, LEGO, DISNEY, HERMES = "CN-T-C-SAMSUNG", "CN-T-C-SONY", "CN-T-C-LEGO", "CN-C-C-DISNEY", "CN-T-C-HERMES"
MK, RAYBAN, CGOOSE, TNF, BEATS = "CN-T-C-MK", "CN-T-C-RAYBAN", "CN-T-C-CGOOSE", "CN-T-C-TNF", "CN-T-C-BEATS"
PANDORA, DOVE, BURBERRY, PRADA, NB = "CN-T-C-PANDORA", "CN-T-C-DOVE", "CN-T-C-BURBERRY", "CN-T-C-PRADA", "CN-T-C-NB"
CONVERSE = "CN-T-C-CONVERSE"

# Parties. Licensees carry the id recorded in registry.json and their Chinese company name.
LICENSEE_NIKE = {"consignor": ("91440300MA5ZZZZ3", "耐克体育（中国）有限公司")}
LICENSEE_ADIDAS = {"consignor": ("91310000MA1ADID01", "阿迪达斯体育（中国）有限公司")}
LICENSEE_APPLE = {"consignee": ("91110000APPLE001", "苹果电子产品商贸（北京）有限公司")}
KNOWN_INFRINGER = {"consignor": ("91440101MA5FAKE9", "广州星辰出口有限公司")}
PUTIAN = {"consignor": ("91350302MA8PT00011", "莆田市荔城区鑫源鞋业商行")}
YIWU = {"consignor": ("91330782MA2YW00022", "义乌市聚宝电子商务有限公司")}
HUAQIANGBEI = {"consignor": ("91440300MA5HQ00033", "深圳市华强北优品数码科技有限公司")}
SANYUANLI = {"consignor": ("91440111MA5SY00044", "广州市三元里皮具贸易商行")}
HK = {"consignee": ("HK-BR-35812345", "香港寶利貿易有限公司")}
TW = {"consignee": ("TW-UBN-24681357", "台灣永盛國際貿易股份有限公司")}


def _x(cat: str, *parties: dict) -> dict:
    out: dict = {"cat": cat}
    for p in parties:
        out.update(p)
    return out


CASES_ZH: list[tuple] = [
    # ================================================================== infringing
    # ---------------------------------------------- Chinese mark in the brand field
    ("I", NIKE, "640411", "耐克", "男士运动鞋 网布鞋面", 5.8, _x("zh_brand", PUTIAN)),
    ("I", ADIDAS, "950662", "阿迪达斯", "5号足球 PU材质", 3.2, _x("zh_brand", YIWU)),
    ("I", PUMA, "610910", "彪马", "纯棉短袖T恤", 2.1, _x("zh_brand")),
    ("I", LV, "420231", "路易威登", "男士短款钱包 牛皮", 4.5, _x("zh_brand", SANYUANLI)),
    ("I", CHANEL, "330410", "香奈儿", "口红 3.5克", 1.5, _x("zh_brand")),
    ("I", ROLEX, "910221", "劳力士", "男士自动机械手表", 25.0, _x("zh_brand")),
    ("I", APPLE, "851830", "苹果", "无线蓝牙耳机", 5.0, _x("zh_brand", HUAQIANGBEI)),
    ("I", SAMSUNG, "851713", "三星", "智能手机 5G 256GB", 32.0, _x("zh_brand", HUAQIANGBEI)),
    ("I", SONY, "851830", "索尼", "头戴式降噪耳机", 6.5, _x("zh_brand")),
    ("I", DISNEY, "950300", "迪士尼", "毛绒玩具公仔", 0.9, _x("zh_brand", YIWU)),
    ("I", HERMES, "621410", "爱马仕", "真丝方巾 90x90cm", 6.0, _x("zh_brand")),
    ("I", RAYBAN, "900410", "雷朋", "偏光太阳镜", 1.6, _x("zh_brand", YIWU)),
    ("I", TNF, "620140", "北面", "男士冲锋衣 防风防水", 12.0, _x("zh_brand")),
    ("I", PANDORA, "711311", "潘多拉", "925银串珠手链", 1.3, _x("zh_brand", YIWU)),
    ("I", SHELL, "271019", "壳牌", "全合成机油 4L", 3.0, _x("zh_brand")),
    ("I", CONVERSE, "640419", "匡威", "高帮帆布鞋", 4.0, _x("zh_brand", PUTIAN)),
    # ---------------------------------------------- Chinese mark inside an unsegmented description
    ("I", NIKE, "640411", None, "耐克运动鞋男款", 6.0, _x("zh_desc", PUTIAN)),
    ("I", ADIDAS, "611020", None, "阿迪达斯三叶草卫衣", 5.2, _x("zh_desc")),
    ("I", PUMA, "640411", None, "彪马休闲板鞋女款", 6.0, _x("zh_desc", PUTIAN)),
    ("I", LV, "420221", None, "路易威登老花女士手提包", 15.0, _x("zh_desc", SANYUANLI)),
    ("I", GUCCI, "420330", None, "古驰双G皮带男", 3.0, _x("zh_desc")),
    ("I", CHANEL, "330300", None, "香奈儿五号香水100毫升", 3.0, _x("zh_desc")),
    ("I", ROLEX, "910221", None, "劳力士绿水鬼机械表", 20.0, _x("zh_desc")),
    ("I", APPLE, "851713", None, "苹果手机全新未拆封", 45.0, _x("zh_desc", HUAQIANGBEI)),
    ("I", SAMSUNG, "851713", None, "三星盖乐世S24智能手机", 35.0, _x("zh_desc", HUAQIANGBEI)),
    ("I", LEGO, "950300", None, "乐高城市系列积木拼装玩具", 3.0, _x("zh_desc", YIWU)),
    ("I", MK, "420222", None, "迈克高仕托特包女大容量", 8.0, _x("zh_desc")),
    ("I", CGOOSE, "620240", None, "加拿大鹅女士派克大衣", 50.0, _x("zh_desc")),
    ("I", DOVE, "330510", None, "多芬洗发水750毫升", 0.8, _x("zh_desc", YIWU)),
    ("I", BURBERRY, "621420", None, "博柏利格纹羊绒围巾", 6.0, _x("zh_desc")),
    ("I", TNF, "620140", None, "乐斯菲斯户外冲锋衣", 12.0, _x("zh_desc")),
    ("I", LEGO, "950300", None, "得宝大颗粒积木幼儿启蒙", 3.0, _x("zh_desc", YIWU)),
    ("I", ROLEX, "910221", None, "迪通拿计时机械腕表", 30.0, _x("zh_desc")),
    ("I", DISNEY, "420292", None, "米老鼠儿童书包", 1.5, _x("zh_desc", YIWU)),
    # ---------------------------------------------- Latin mark or model name glued to Chinese
    ("I", NIKE, "640411", None, "NIKE运动鞋", 5.0, _x("glued_latin", PUTIAN)),
    ("I", NIKE, "640411", None, "Nike运动鞋男", 6.0, _x("glued_latin", PUTIAN)),
    ("I", NIKE, "640411", None, "Air Jordan 1代复古篮球鞋", 10.0, _x("glued_latin", PUTIAN)),
    ("I", ADIDAS, "640411", None, "YEEZY350椰子鞋", 15.0, _x("glued_latin", PUTIAN)),
    ("I", GUCCI, "420330", None, "Gucci古驰腰带", 2.0, _x("glued_latin")),
    ("I", LV, "420222", None, "lv老花包", 8.0, _x("glued_latin", SANYUANLI)),
    ("I", LV, "420221", None, "LV女士手提包老花", 12.0, _x("glued_latin", SANYUANLI)),
    ("I", ROLEX, "910221", None, "ROLEX机械表男士", 20.0, _x("glued_latin")),
    ("I", APPLE, "851713", None, "iPhone15ProMax手机256G", 60.0, _x("glued_latin", HUAQIANGBEI)),
    ("I", APPLE, "851830", None, "AirPodsPro2无线耳机", 4.0, _x("glued_latin", HUAQIANGBEI)),
    ("I", SAMSUNG, "851713", None, "GalaxyS24Ultra手机", 40.0, _x("glued_latin", HUAQIANGBEI)),
    ("I", SONY, "950450", None, "PlayStation5游戏主机", 60.0, _x("glued_latin", HUAQIANGBEI)),
    ("I", MK, "420222", None, "MK女包链条单肩", 8.0, _x("glued_latin")),
    ("I", NB, "640411", None, "NewBalance574复古跑鞋", 9.0, _x("glued_latin", PUTIAN)),
    ("I", BEATS, "851830", None, "Beats头戴式蓝牙耳机", 6.0, _x("glued_latin", HUAQIANGBEI)),
    ("I", CGOOSE, "620140", None, "CanadaGoose羽绒服男", 45.0, _x("glued_latin")),
    ("I", GAP, "610910", None, "GAP纯棉T恤男", 1.5, _x("glued_latin", YIWU)),
    # ---------------------------------------------- full-width letters and digits
    ("I", NIKE, "640411", "ＮＩＫＥ", "运动鞋", 5.0, _x("fullwidth", PUTIAN)),
    ("I", ADIDAS, "611212", None, "ＡＤＩＤＡＳ运动套装", 7.0, _x("fullwidth")),
    ("I", GUCCI, "420222", None, "ｇｕｃｃｉ女包", 10.0, _x("fullwidth")),
    ("I", LV, "420221", None, "ＬＶ手袋老花", 12.0, _x("fullwidth", SANYUANLI)),
    ("I", CHANEL, "330300", None, "ＣＨＡＮＥＬ　香水　５０ｍｌ", 3.0, _x("fullwidth")),
    ("I", SAMSUNG, "851713", "ＳＡＭＳＵＮＧ", "智能手机", 30.0, _x("fullwidth", HUAQIANGBEI)),
    ("I", APPLE, "851713", None, "ｉＰｈｏｎｅ１５手机", 55.0, _x("fullwidth", HUAQIANGBEI)),
    # ---------------------------------------------- spacing and punctuation
    ("I", NIKE, "640411", "耐 克", "运动鞋", 5.0, _x("spacing")),
    ("I", NIKE, "640411", None, "【耐克】男士跑步鞋", 6.0, _x("spacing", PUTIAN)),
    ("I", NIKE, "640411", None, "耐克　运动鞋　男", 5.0, _x("spacing")),  # ideographic spaces
    ("I", ADIDAS, "640411", None, "阿迪 达斯 运动鞋", 6.0, _x("spacing")),
    ("I", GUCCI, "420221", None, "“古驰”女士手提包", 12.0, _x("spacing")),
    ("I", LV, "420221", None, "路易·威登手袋", 15.0, _x("spacing", SANYUANLI)),
    ("I", MK, "910211", "迈克·高仕", "女士手表", 7.0, _x("spacing")),
    ("I", ROLEX, "910211", "劳力士®", "手表", 12.0, _x("spacing")),
    ("I", HERMES, "420221", None, "爱 马 仕 女包", 40.0, _x("spacing")),
    # ---------------------------------------------- Traditional characters, Hong Kong and Taiwan forms
    ("I", NIKE, "640411", None, "耐克運動鞋 男款", 6.0, _x("traditional", HK)),
    ("I", NIKE, "640411", "耐吉", "籃球鞋", 8.0, _x("traditional", TW)),
    ("I", ADIDAS, "640411", "愛迪達", "運動鞋", 7.0, _x("traditional", TW)),
    ("I", HERMES, "420221", "愛馬仕", "真皮手袋", 60.0, _x("traditional", HK)),
    ("I", ROLEX, "910221", None, "勞力士機械錶", 20.0, _x("traditional", HK)),
    ("I", CHANEL, "330300", None, "香奈兒香水 5號", 3.5, _x("traditional", HK)),
    ("I", APPLE, "851713", None, "蘋果手機 256GB", 40.0, _x("traditional", HK)),
    ("I", LEGO, "950300", None, "樂高積木 幻影忍者", 3.0, _x("traditional", TW)),
    ("I", GUCCI, "420330", None, "古馳皮帶 男裝", 2.5, _x("traditional", HK)),
    ("I", CGOOSE, "620140", None, "加拿大鵝羽絨服", 55.0, _x("traditional", HK)),
    ("I", SHELL, "271019", None, "蜆殼機油 4公升", 2.5, _x("traditional", HK)),
    ("I", MK, "420222", None, "邁克高仕女裝手袋", 10.0, _x("traditional", HK)),
    # ---------------------------------------------- counterfeit vocabulary with a mark
    ("I", NIKE, "640411", None, "高仿耐克运动鞋", 8.0, _x("vocab", PUTIAN)),
    ("I", NIKE, "640411", None, "莆田鞋 耐克空军一号 纯原", 10.0, _x("vocab", PUTIAN)),
    ("I", NIKE, "640411", None, "顶级复刻 Air Jordan 1 芝加哥", 15.0, _x("vocab", PUTIAN)),
    ("I", NIKE, "640411", None, "耐克同款运动鞋", 6.0, _x("vocab")),
    ("I", LV, "420221", None, "A货路易威登包", 20.0, _x("vocab", SANYUANLI)),
    ("I", GUCCI, "420330", None, "原单古驰腰带", 4.0, _x("vocab")),
    ("I", ROLEX, "910221", None, "精仿劳力士手表", 30.0, _x("vocab")),
    ("I", CHANEL, "420222", None, "1:1香奈儿包包", 25.0, _x("vocab")),
    ("I", HERMES, "420221", None, "超A爱马仕铂金包", 80.0, _x("vocab")),
    ("I", ADIDAS, "611020", None, "尾单阿迪达斯卫衣", 4.0, _x("vocab")),
    ("I", PRADA, "420221", None, "１：１原版普拉达女包", 20.0, _x("vocab")),
    ("I", TNF, "620140", None, "原单尾货 北面冲锋衣", 15.0, _x("vocab")),
    ("I", APPLE, "850440", None, "苹果原装充电头1:1 20W", 1.2, _x("vocab", HUAQIANGBEI)),
    # ---------------------------------------------- homophones and look-alike characters
    ("I", NIKE, "640411", None, "奈克运动鞋 男款", 6.0, _x("homophone", PUTIAN)),
    ("I", NIKE, "640411", None, "耐尅运动鞋", 5.0, _x("homophone", PUTIAN)),  # 尅: variant of 克
    ("I", ADIDAS, "640411", None, "阿迪大斯板鞋", 7.0, _x("homophone", PUTIAN)),
    ("I", ADIDAS, "611020", None, "阿迪达丝三叶草卫衣", 4.0, _x("homophone")),
    ("I", GUCCI, "420222", None, "古奇女士手提包", 12.0, _x("homophone")),
    ("I", GUCCI, "420330", None, "古弛双G腰带", 2.5, _x("homophone")),  # 弛 for 驰
    ("I", CHANEL, "330300", None, "香奈尔香水100ml", 3.0, _x("homophone")),
    ("I", CHANEL, "330300", None, "香柰儿邂逅淡香水", 2.5, _x("homophone")),  # 柰 for 奈
    ("I", ROLEX, "910221", None, "劳立士机械手表", 18.0, _x("homophone")),
    ("I", ROLEX, "910211", None, "劳力土手表 男士", 9.0, _x("homophone")),  # 土 for 士
    ("I", LV, "420222", None, "路易威灯老花手袋", 10.0, _x("homophone", SANYUANLI)),
    ("I", HERMES, "420221", None, "爱玛仕女包", 20.0, _x("homophone")),
    ("I", PRADA, "420292", None, "普拉大尼龙双肩包", 8.0, _x("homophone")),
    ("I", SAMSUNG, "851713", None, "叁星智能手机", 35.0, _x("homophone", HUAQIANGBEI)),  # 叁: the banker's 三
    ("I", LEGO, "950300", None, "勒高积木拼装玩具", 2.0, _x("homophone", YIWU)),
    ("I", DISNEY, "950300", None, "迪斯尼公主毛绒玩偶", 1.0, _x("homophone", YIWU)),
    ("I", PUMA, "640411", None, "飙马运动鞋 男", 5.0, _x("homophone", PUTIAN)),
    ("I", RAYBAN, "900410", None, "雷鹏太阳镜", 1.5, _x("homophone", YIWU)),
    ("I", MK, "420222", None, "麦克高仕女包", 9.0, _x("homophone")),
    ("I", PANDORA, "711719", None, "潘朵拉串珠手链", 1.0, _x("homophone", YIWU)),
    ("I", CGOOSE, "620140", None, "加拿大鵞羽绒服", 50.0, _x("homophone")),  # 鵞: variant of 鹅
    ("I", SHELL, "271019", None, "売牌机油 4L", 2.5, _x("homophone")),  # 売: look-alike of 壳
    # ---------------------------------------------- genuine price, no licensee
    ("I", NIKE, "640411", "耐克", "Air Max 90 男士运动鞋", 85.0, _x("genuine_price")),
    ("I", APPLE, "851713", None, "苹果 iPhone 15 Pro 256GB", 720.0, _x("genuine_price")),
    ("I", ROLEX, "910221", "劳力士", "潜航者型 自动机械腕表", 6500.0, _x("genuine_price")),
    ("I", CHANEL, "420221", None, "香奈儿CF经典口盖包", 5200.0, _x("genuine_price")),
    # ---------------------------------------------- known infringer, price above the genuine minimum
    ("I", LV, "420221", "路易威登", "女士手袋", 700.0, _x("known_infringer", KNOWN_INFRINGER)),
    # ---------------------------------------------- vague description, mark in the brand field
    ("I", ADIDAS, "640411", "阿迪达斯", "礼品", 6.0, _x("vague")),
    ("I", GUCCI, "420221", "古驰", "样品", 10.0, _x("vague")),
    ("I", ROLEX, "910211", "劳力士", "配件", 10.0, _x("vague")),
    # ================================================================== legitimate
    # ---------------------------------------------- descriptive use
    ("L", None, "392690", None, "适用于苹果手机的保护壳", 0.4, _x("descriptive", YIWU)),
    ("L", None, "854442", None, "兼容iPhone 15充电线", 0.3, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "560900", None, "适配耐克鞋的鞋带", 0.15, _x("descriptive", YIWU)),
    ("L", None, "854442", None, "三星专用数据线", 0.3, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "392690", None, "用于乐高积木的收纳盒", 2.0, _x("descriptive", YIWU)),
    ("L", None, "950300", None, "兼容乐高的小颗粒拼装积木", 2.5, _x("descriptive", YIWU)),
    ("L", None, "851890", None, "适用于AirPods Pro的硅胶耳塞套", 0.1, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "850440", None, "兼容苹果MacBook的65W PD充电器", 1.8, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "950450", None, "兼容索尼PlayStation 5的无线手柄", 5.0, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "700719", None, "适用于三星Galaxy S24的钢化膜", 0.2, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "911320", None, "适配劳力士20mm的不锈钢表带", 1.0, _x("descriptive")),
    ("L", None, "420292", None, "适用于香奈儿包的内胆收纳包", 3.0, _x("descriptive", YIWU)),
    ("L", None, "420292", None, "LV Neverfull专用内胆包", 3.0, _x("descriptive", YIWU)),
    ("L", None, "640690", None, "适用于耐克Air Max的鞋垫", 0.5, _x("descriptive")),
    ("L", None, "340510", None, "爱马仕皮包专用护理剂", 4.0, _x("descriptive")),
    ("L", None, "850440", None, "兼容华为和苹果手机的无线充电器", 2.0, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "392690", None, "適用於iPhone 15的手機殼", 0.4, _x("descriptive", HK)),
    ("L", None, "392690", None, "为三星盖乐世S23设计的保护套", 0.5, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "851890", None, "索尼耳机专用替换耳罩", 0.8, _x("descriptive", HUAQIANGBEI)),
    ("L", None, "900490", None, "雷朋眼镜专用替换镜片", 2.0, _x("descriptive", YIWU)),
    # ---------------------------------------------- ordinary words containing a mark or part of one
    ("L", None, "080810", None, "新鲜苹果", 0.8, _x("ordinary")),
    ("L", None, "220900", None, "苹果醋 500毫升", 1.5, _x("ordinary")),
    ("L", None, "200979", None, "浓缩苹果汁", 1.2, _x("ordinary")),
    ("L", None, "610910", None, "苹果图案儿童T恤", 2.0, _x("ordinary", YIWU)),
    ("L", None, "851822", None, "苹果造型蓝牙音箱", 6.0, _x("ordinary", YIWU)),
    ("L", None, "080810", None, "新鮮蘋果", 0.9, _x("ordinary", HK)),
    ("L", None, "490300", None, "潘多拉魔盒 儿童绘本", 2.0, _x("ordinary")),
    ("L", None, "711719", None, "潘多拉魔盒造型吊坠", 0.5, _x("ordinary", YIWU)),
    ("L", None, "490199", None, "米其林指南 上海2026", 20.0, _x("ordinary")),
    ("L", None, "340111", None, "白鸽香皂", 0.3, _x("ordinary")),
    ("L", None, "180632", None, "德芙巧克力", 3.0, _x("ordinary")),
    ("L", None, "960190", None, "贝壳工艺品摆件", 1.0, _x("ordinary", YIWU)),
    ("L", None, "871680", None, "省劳力手推车", 15.0, _x("ordinary")),
    ("L", None, "630399", None, "适合朝北面窗户的遮光窗帘", 3.0, _x("ordinary")),
    ("L", None, "611020", None, "印有雪山北面风景的卫衣", 5.0, _x("ordinary")),
    ("L", None, "950300", None, "快乐高尔夫球玩具套装", 2.0, _x("ordinary", YIWU)),
    ("L", None, "950300", None, "儿童欢乐高跷", 3.0, _x("ordinary", YIWU)),
    ("L", None, "830629", None, "三星堆青铜面具摆件", 8.0, _x("ordinary")),
    ("L", None, "852351", None, "三星堆文创U盘 32G", 4.0, _x("ordinary", HUAQIANGBEI)),
    ("L", None, "640299", None, "三星级酒店一次性拖鞋", 0.2, _x("ordinary")),
    ("L", None, "940440", None, "加拿大鹅绒被", 40.0, _x("ordinary")),
    ("L", None, "420222", None, "爱马人士马术主题帆布托特包", 6.0, _x("ordinary")),
    # ---------------------------------------------- ordinary words that sound like a mark
    ("L", None, "640411", None, "运动鞋 标码 40-45", 8.0, _x("homophone_trap", PUTIAN)),
    ("L", None, "620140", None, "背面印花夹克", 9.0, _x("homophone_trap")),
    ("L", None, "340111", None, "茶多酚香皂", 0.4, _x("homophone_trap")),
    ("L", None, "080450", None, "平果芒果 新鲜", 1.0, _x("homophone_trap")),
    # ---------------------------------------------- counterfeit vocabulary, no recorded mark
    ("L", None, "670290", None, "高仿真人造花", 0.5, _x("vocab", YIWU)),
    ("L", None, "670290", None, "高仿真绿植盆栽", 3.0, _x("vocab", YIWU)),
    ("L", None, "950300", None, "1:18合金汽车模型", 8.0, _x("vocab")),
    ("L", None, "950300", None, "1:1比例恐龙模型", 30.0, _x("vocab")),
    ("L", None, "640419", None, "复刻版经典帆布鞋", 5.0, _x("vocab")),
    ("L", None, "610910", None, "原单外贸尾货T恤", 2.0, _x("vocab", YIWU)),
    # ---------------------------------------------- licensees of the holder
    ("L", None, "640411", "耐克", "男士跑步鞋", 42.0, _x("licensee", LICENSEE_NIKE)),
    ("L", None, "610910", None, "耐克纯棉T恤", 13.0, _x("licensee", LICENSEE_NIKE)),
    ("L", None, "640411", None, "NIKE运动鞋 清仓", 3.0, _x("licensee", LICENSEE_NIKE)),
    ("L", None, "950662", "阿迪达斯", "比赛用足球", 20.0, _x("licensee", LICENSEE_ADIDAS)),
    ("L", None, "640411", None, "阿迪达斯三叶草运动鞋", 35.0, _x("licensee", LICENSEE_ADIDAS)),
    ("L", None, "851713", "苹果", "iPhone 15 手机 128GB", 700.0, _x("licensee", LICENSEE_APPLE)),
    ("L", None, "847130", "蘋果", "MacBook Pro 14寸 笔记本电脑", 1400.0, _x("licensee", LICENSEE_APPLE)),
    # ---------------------------------------------- recorded mark on goods outside the recorded goods
    ("L", None, "950300", "耐克", "足球运动员人偶玩具", 2.0, _x("outside_goods")),
    ("L", None, "340111", "香奈儿", "香皂", 0.5, _x("outside_goods")),
    ("L", None, "711719", "劳力士", "皇冠造型钥匙扣", 0.5, _x("outside_goods")),
    ("L", None, "950300", "苹果", "过家家玩具水果套装", 0.5, _x("outside_goods")),
    ("L", None, "271019", "三星", "润滑油", 2.0, _x("outside_goods")),
    ("L", None, "610910", "壳牌", "广告T恤", 2.0, _x("outside_goods")),
    ("L", None, "851822", "乐高", "蓝牙音箱", 5.0, _x("outside_goods")),
    ("L", None, "392690", None, "古驰手机壳", 1.0, _x("outside_goods")),
    ("L", None, "660191", None, "迪士尼公主图案雨伞", 2.0, _x("outside_goods")),
    ("L", None, "392640", None, "彪马造型树脂摆件", 2.0, _x("outside_goods")),
    # ---------------------------------------------- expired, revoked, pending, not yet valid
    ("L", None, "900410", None, "欧克利运动太阳镜", 2.0, _x("status")),
    ("L", None, "900410", "欧克利", "骑行眼镜", 2.5, _x("status")),
    ("L", None, "910211", None, "卡西欧电子手表", 3.0, _x("status")),
    ("L", None, "910211", "卡西歐", "G-SHOCK運動錶", 4.0, _x("status", HK)),
    ("L", None, "851631", None, "戴森吹风机", 20.0, _x("status")),
    ("L", None, "640411", None, "VEJA休闲运动鞋", 10.0, _x("status")),
    # ---------------------------------------------- Chinese brands nobody recorded
    ("L", None, "640411", "李宁", "篮球鞋", 20.0, _x("unrecorded")),
    ("L", None, "640411", None, "安踏跑步鞋男款", 12.0, _x("unrecorded")),
    ("L", None, "851713", "华为", "智能手机 5G", 150.0, _x("unrecorded")),
    ("L", None, "851713", None, "小米14手机", 120.0, _x("unrecorded")),
    ("L", None, "640411", None, "鸿星尔克运动鞋", 9.0, _x("unrecorded")),
    ("L", None, "640419", "回力", "帆布鞋", 4.0, _x("unrecorded")),
    ("L", None, "620140", "波司登", "羽绒服", 40.0, _x("unrecorded")),
    ("L", None, "910221", None, "海鸥机械手表", 30.0, _x("unrecorded")),
    ("L", None, "392690", None, "华为手机配件", 1.0, _x("unrecorded")),
    ("L", None, "401110", "米其林", "轿车轮胎", 60.0, _x("unrecorded")),
    # ---------------------------------------------- vague descriptions, no mark
    ("L", None, "950300", None, "礼品", 2.0, _x("vague")),
    ("L", None, "420292", None, "样品", 1.0, _x("vague")),
    ("L", None, "392690", None, "配件", 0.5, _x("vague")),
    ("L", None, "630790", None, "日用杂货", 1.0, _x("vague")),
    # ---------------------------------------------- ordinary goods of the recorded kinds, no mark
    ("L", None, "640411", None, "男士运动鞋 网面透气", 8.0, _x("plain")),
    ("L", None, "610910", None, "纯棉短袖T恤", 2.0, _x("plain")),
    ("L", None, "420221", None, "女士真皮手提包", 25.0, _x("plain")),
    ("L", None, "910211", None, "石英手表 皮表带", 6.0, _x("plain")),
    ("L", None, "851713", None, "智能手机 4G 64GB", 60.0, _x("plain")),
    ("L", None, "420222", None, "老花图案帆布托特包", 7.0, _x("plain")),
    ("L", None, "621420", None, "格子羊毛围巾", 4.0, _x("plain")),
    ("L", None, "420222", None, "菱格链条单肩包", 9.0, _x("plain")),
    ("L", None, "910221", None, "潜水表 200米防水 自动机械", 25.0, _x("plain")),
    ("L", None, "620140", None, "连帽羽绒服 白鸭绒", 30.0, _x("plain")),
]


def counts() -> tuple[Counter, Counter]:
    """Lines per label, and per (category, label); descriptive lines count as their own kind."""
    by_label = Counter("L-descriptive" if c[6]["cat"] == "descriptive" else c[0] for c in CASES_ZH)
    by_cat = Counter((c[6]["cat"], c[0]) for c in CASES_ZH)
    return by_label, by_cat


def main() -> None:
    by_label, by_cat = counts()
    n = len(CASES_ZH)
    print(f"{n} lines")
    for label in ("I", "L", "L-descriptive"):
        print(f"  {label:<14} {by_label[label]:>4}  {by_label[label] / n:6.1%}")
    print(f"{'category':<16} {'I':>4} {'L':>4}")
    for cat in dict.fromkeys(c[6]["cat"] for c in CASES_ZH):
        print(f"{cat:<16} {by_cat[(cat, 'I')]:>4} {by_cat[(cat, 'L')]:>4}")


if __name__ == "__main__":
    main()
