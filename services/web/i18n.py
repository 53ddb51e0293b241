"""Simplified Chinese and English for every page: one message table, English text as the key.

``t(lang, text, **values)`` answers the text in ``lang`` with ``{name}`` placeholders filled. Every
string a page shows goes through it (templates call ``_``); ``tests/unit/test_web_pages.py`` checks
that each has its Chinese. Names of states, deadlines, events and roles are translated from the
codes the services answer (``label``); an unknown code shows as written, never as an error.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LANGS = ("en", "zh")
LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}

ZH: dict[str, str] = {
    # layout, sign-in
    "IPR border enforcement": "知识产权边境保护",
    "Officers' workbench": "关员工作台",
    "Rights-holder portal": "权利人门户",
    "Sign in": "登录",
    "Sign out": "退出登录",
    "Signed in as {name}": "当前用户：{name}",
    "Language": "语言",
    "中文": "中文",
    "English": "English",
    "Skip to content": "跳到正文",
    "Sign in with your platform account. Officers and supervisors work cases in the workbench; rights holders "
    "follow their cases and recordations in the portal.": (
        "使用平台账号登录。关员和科长在工作台办理案件；权利人在门户跟踪自己的案件和备案。"
    ),
    "The sign-in did not complete: {why}": "登录未完成：{why}",
    "Your session has ended; please sign in again.": "会话已结束，请重新登录。",
    "This page is for officers.": "此页面仅供关员使用。",
    "This page is for rights holders.": "此页面仅供权利人使用。",
    "The form has expired; please try again.": "表单已过期，请重试。",
    "Not found": "未找到",
    "Something went wrong": "出错了",
    "Back": "返回",
    # navigation
    "Worklist": "工作清单",
    "My cases": "我的案件",
    "Statistics": "统计",
    "Recordations": "备案",
    "Applications to approve": "待审批的申请",
    "My recordations": "我的备案",
    "Webhooks": "Webhook 推送",
    "Guarantees": "担保",
    # worklist
    "Cases by urgency": "按紧急程度排列的案件",
    "Failed cases come first, then escalated cases and pending approvals, then the fewest working days left.": (
        "出错的案件排在最前，其次是已升级和待审批的案件，其余按剩余工作日从少到多排列。"
    ),
    "Search": "搜索",
    "Case, declaration, manifest, consignor, consignee or mark": "案件、报关单、舱单、发货人、收货人或商标",
    "State": "状态",
    "Office": "海关",
    "Jurisdiction": "法域",
    "Mark": "商标",
    "Holder": "权利人",
    "Assignee": "承办人",
    "Direction": "进出境",
    "Transport": "运输方式",
    "Manifest": "舱单",
    "any": "全部",
    "Filter": "筛选",
    "Clear": "清除",
    "Include closed cases": "包括已结案件",
    "Only unassigned": "仅未分配",
    "Case": "案件",
    "Goods": "货物",
    "Next deadline": "下一期限",
    "Value": "货值",
    "No cases match.": "没有符合条件的案件。",
    "{n} cases": "{n} 件案件",
    "{n} working days left": "剩余 {n} 个工作日",
    "1 working day left": "剩余 1 个工作日",
    "due today": "今天到期",
    "{n} working days overdue": "已逾期 {n} 个工作日",
    "provisional calendar": "临时日历",
    "escalated": "已升级",
    "awaiting approval": "待审批",
    "failed": "出错",
    "unassigned": "未分配",
    "Previous": "上一页",
    "Next": "下一页",
    "Select": "选择",
    "Select all": "全选",
    "With the selected cases": "对所选案件",
    "Act": "执行",
    "Take them (assign to me)": "由我承办",
    "Record the determination: infringing (propose confiscation)": "记录认定：侵权（拟没收）",
    "Record the determination: not infringing (release)": "记录认定：不侵权（放行）",
    "Fine tier": "罚款档次",
    "Note": "备注",
    "Each case is recorded on its own; the law's conditions are checked case by case.": (
        "每件案件单独记录；法律条件逐案检查。"
    ),
    "Bulk action": "批量操作",
    "Select at least one case.": "请至少选择一件案件。",
    "Choose an action.": "请选择操作。",
    "Done": "完成",
    "Refused": "被拒绝",
    "{ok} done, {bad} refused": "{ok} 件完成，{bad} 件被拒绝",
    # case detail
    "Case {id}": "案件 {id}",
    "Declaration": "报关单",
    "Opened": "立案时间",
    "Procedure": "程序",
    "Goods lines": "货物明细",
    "Line": "项号",
    "HS code": "商品编码",
    "Description": "品名",
    "Quantity": "数量",
    "Unit value": "单价",
    "Origin": "原产地",
    "Route": "路线",
    "Parties": "当事人",
    "Declarant": "申报人",
    "Consignor": "发货人",
    "Consignee": "收货人",
    "Rights holder and recordation": "权利人与备案",
    "Recordation": "备案号",
    "Valid until": "有效期至",
    "Licensees": "被许可人",
    "Product identification guide": "产品识别指南",
    "Genuine features": "正品特征",
    "Signs of a fake": "侵权品特征",
    "Genuine prices": "正品价格",
    "Usual routes": "常见路线",
    "Contact": "联系人",
    "The holder has not given an identification guide.": "权利人尚未提供识别指南。",
    "Notices and documents": "通知与文书",
    "Sent": "发出时间",
    "To": "收件人",
    "Delivery": "送达",
    "Subject": "主题",
    "Read": "阅读",
    "No notice yet.": "尚无通知。",
    "Evidence": "证据",
    "Upload a photo or PDF": "上传照片或 PDF",
    "File": "文件",
    "Upload": "上传",
    "Photos (JPEG, PNG, WebP) or PDF, at most 20 MB.": "照片（JPEG、PNG、WebP）或 PDF，不超过 20 MB。",
    "No evidence yet.": "尚无证据。",
    "Uploaded by {who}": "上传人：{who}",
    "Deadlines": "期限",
    "Deadline": "期限",
    "Due": "届满",
    "Time left": "剩余时间",
    "Status": "状态",
    "No deadline.": "无期限。",
    "Timeline": "时间线",
    "Actions": "操作",
    "What the law allows in this state": "此状态下法律允许的操作",
    "No action is open in this state.": "此状态下没有可执行的操作。",
    "Determination": "认定",
    "Outcome": "结论",
    "infringing: confiscate": "侵权：没收",
    "not infringing: release": "不侵权：放行",
    "cannot determine": "无法认定",
    "Record the determination": "记录认定",
    "Lines not infringing": "不侵权的商品项",
    "Line numbers of this case: released; the other lines take the outcome above.": (
        "本案商品项序号：予以放行；其余商品项按上面的认定处理。"
    ),
    "Enter line numbers of this case, separated by commas.": "请填写本案商品项序号，用逗号分隔。",
    "moved to case {case}": "已移至案件 {case}",
    "Petition against the seizure": "对扣押的申诉",
    "denied: forfeited": "驳回：没入",
    "granted: released": "准予：放行",
    "Record the decision": "记录决定",
    "Court assistance notice": "法院协助执行通知",
    "Reference": "文号",
    "Court": "法院",
    "keep detained for the court": "继续扣留以待法院处理",
    "release": "放行",
    "Enter the notice": "录入通知",
    "Guarantee received": "收到担保",
    "Amount": "金额",
    "Currency": "币种",
    "Form": "形式",
    "cash deposit": "保证金",
    "bank letter": "银行保函",
    "general guarantee": "总担保",
    "Record the guarantee": "记录担保",
    "Hearing": "听证",
    "requested": "已申请",
    "waived": "已放弃",
    "concluded": "已结束",
    "Fine (if concluded)": "罚款（结束时）",
    "Record": "记录",
    "Answer received on paper": "收到书面答复",
    "Record the service of the notice to {party} by other means": "以其他方式送达{party}的通知并记录送达",
    "How it was served": "送达方式",
    "Record the service": "记录送达",
    "Party": "当事人",
    "Kind": "类型",
    "Text": "内容",
    "Assignment": "承办",
    "Worked by {name}": "承办人：{name}",
    "Nobody works this case yet.": "尚无承办人。",
    "Take this case": "由我承办",
    "Hand over to": "移交给",
    "account id of the officer": "关员账号",
    "Hand over": "移交",
    "Give back": "退回",
    "This case has failed": "此案件处理出错",
    "Its workflow stopped: {why}. The case is held as it was; nothing lapses unseen. A supervisor repairs it "
    "(the workflow is reset to its last good point), recorded with their name.": (
        "案件流程已停止：{why}。案件保持原状，期限不会在无人知晓的情况下届满。由科长修复（将流程重置到最后一个正常步骤）"
        "，并记录修复人。"
    ),
    "Repair the case": "修复案件",
    "Reason": "原因",
    "This case is stuck": "此案件停滞",
    "A step has not completed: {why}. Do the step by hand or ask IT; the escalation stays open until then.": (
        "有步骤未完成：{why}。请人工处理或联系技术支持；在此之前升级不会关闭。"
    ),
    "Four-eyes approval": "双人复核",
    "{what} proposed by {who} waits for a supervisor's approval.": "{who} 提出的{what}等待科长批准。",
    "Approve": "批准",
    "Refuse": "拒绝",
    "You proposed this: another supervisor approves it.": "此项由您提出，须由另一位科长批准。",
    "Instruction sent to the case.": "指令已发送至案件。",
    "The case has moved on: {state}.": "案件已进入：{state}。",
    "The case has not moved yet; reload in a moment.": "案件尚未变化，请稍后刷新。",
    "Saved.": "已保存。",
    "The file was stored.": "文件已保存。",
    "Open in the Temporal Web UI": "在 Temporal Web UI 中查看",
    "Goods value": "货值",
    "Guarantee required": "所需担保",
    "Fine": "罚款",
    "Disposal": "处置",
    "Lines": "明细数",
    "Items": "件数",
    # notice page
    "Notice {id}": "通知 {id}",
    "As sent": "发出原文",
    "Document (HTML)": "文书（HTML）",
    "Document (PDF)": "文书（PDF）",
    "Document": "文书",
    "Plain text only": "仅文字通知",
    "Reply by": "答复期限",
    "Deliveries": "送达记录",
    "Channel": "渠道",
    "Attempts": "尝试次数",
    "Served": "送达时间",
    # statistics
    "Seizures": "查扣",
    "By": "按",
    "period": "期间",
    "route": "路线",
    "office": "海关",
    "holder": "权利人",
    "mark": "商标",
    "direction": "进出境",
    "transport mode": "运输方式",
    "jurisdiction": "法域",
    "From": "自",
    "Until": "至",
    "month": "月",
    "quarter": "季度",
    "year": "年",
    "Show": "显示",
    "Download CSV": "下载 CSV",
    "Cases": "案件数",
    "Value (CNY)": "货值（人民币）",
    "Total": "合计",
    "No seizure in this period.": "此期间没有查扣。",
    "Targeting profiles and campaigns": "布控规则与专项行动",
    "No targeting profile or campaign has selected goods in a case yet.": "尚无布控规则或专项行动选中的案件。",
    "Cases ended in confiscation, destruction or forfeiture, counted by the day they closed.": (
        "以没收、销毁或没入结案的案件，按结案日期统计。"
    ),
    "Profile or campaign": "规则或行动",
    "Hits": "命中",
    "Seized": "查扣",
    "Released": "放行",
    "Open": "在办",
    "Hit rate": "查获率",
    "Seizures per hit of the profile (hits counted by the risk service).": (
        "每次命中的查扣数（命中次数由风险服务统计）。"
    ),
    "Closed cases stay searchable: use the worklist with \u201cInclude closed cases\u201d.": (
        "已结案件仍可检索：在工作清单中勾选“包括已结案件”。"
    ),
    # recordations (officers)
    "Pending applications": "待审批申请",
    "Applied by": "申请人",
    "Title": "名称",
    "Right": "权利类型",
    "Approve (four eyes)": "批准（双人复核）",
    "Refusal reason": "拒绝理由",
    "No application waits.": "没有待审批的申请。",
    # portal
    "Your cases": "您的案件",
    "Cases of your rights, with their state and deadlines.": "涉及您权利的案件及其状态和期限。",
    "Reply to the notice": "答复通知",
    "Decision": "决定",
    "Detain the goods (I post a guarantee)": "申请扣留（提供担保）",
    "No detention is needed": "无需扣留",
    "Guarantee reference": "担保编号",
    "Statement": "说明",
    "Send the reply": "发送答复",
    "Your reply was sent.": "答复已发送。",
    "Post or replace a guarantee": "提供或更换担保",
    "Post the guarantee": "提供担保",
    "Guarantee and costs": "担保与费用",
    "Held": "已冻结",
    "Posted": "已提供",
    "At most 2 decimals.": "最多两位小数。",
    "Choose one of the options.": "请从选项中选择。",
    "No general guarantee is registered.": "尚未登记总担保。",
    "The end is before the start.": "结束日期早于开始日期。",
    "At least the required guarantee: CNY {amount}.": "不得低于应提供的担保金额：人民币 {amount}。",
    "Charged": "已扣除",
    "Refunded": "已退还",
    "Drawn from": "来源",
    "Costs so far": "已发生费用",
    "Balance": "余额",
    "No guarantee is held for this case.": "此案件暂无担保。",
    "Your general guarantees": "您的总担保",
    "Coverage": "担保期间",
    "Identification": "侵权认定",
    "Answer an identification request with evidence": "提交侵权认定意见及证据",
    "Your assessment": "您的意见",
    "Send": "提交",
    "Application for action (EU)": "申请采取行动（欧盟）",
    "File the application for action within the time limit to keep the goods detained.": (
        "请在期限内提交申请，以便继续扣留货物。"
    ),
    "Application reference": "申请编号",
    "File the application": "提交申请",
    "You have no case.": "您没有案件。",
    "Apply for a recordation": "申请备案",
    "Apply": "提交申请",
    "Amend the guide": "修改识别指南",
    "Renew": "续展",
    "Recordation id": "备案编号",
    "Registration number": "注册号",
    "Other forms of the mark (one a line)": "商标的其他形式（每行一个）",
    "HS codes of the goods (one a line)": "商品编码（每行一个）",
    "Valid from": "有效期自",
    "Contact e-mail": "联系邮箱",
    "Genuine features (one a line)": "正品特征（每行一个）",
    "Signs of a fake (one a line)": "侵权品特征（每行一个）",
    "Genuine prices (product; market; price; currency — one a line)": "正品价格（产品；市场；价格；币种，每行一个）",
    "Usual routes (origin; destination; transport — one a line)": "常见路线（起运地；目的地；运输方式，每行一个）",
    "Licensees (id; name — one a line)": "被许可人（编号；名称，每行一个）",
    "Images": "图片",
    "Image of the genuine article": "正品图片",
    "Caption": "说明",
    "Your application was recorded; customs will review it.": "申请已记录，海关将进行审核。",
    "trademark": "商标",
    "copyright": "著作权",
    "patent": "专利",
    "Version": "版本",
    "History": "历史",
    "Webhook settings": "Webhook 设置",
    "Endpoint": "地址",
    "Signing keys": "签名密钥",
    "Rotate the signing key": "轮换签名密钥",
    "Overlap (hours)": "重叠时间（小时）",
    "Your new signing key — copy it now, it is never shown again:": "新签名密钥——请立即复制，之后不再显示：",
    "Delivery log": "送达日志",
    "No delivery yet.": "尚无送达记录。",
    "Key": "密钥",
    "Created": "创建时间",
    "Signs until": "签名截止",
    "This field is required.": "此项为必填项。",
    "Case access code for {party}": "{party}的案件访问码",
    "Give it to the party with its notice; it is shown only now. Valid until {until}; with it the party reads this "
    "case and answers, and nothing else.": (
        "请随通知一并交给该当事人；访问码仅此一次显示。有效期至{until}；凭此码当事人只能查阅本案并作出答复。"
    ),
    "Case access code for a party without an account": "为无账号的当事人签发案件访问码",
    "Issue a code": "签发访问码",
    "The party exchanges it for a token at {endpoint} (grant type {grant}, client {client}), as the platform's "
    "documentation for parties shows.": (
        "当事人凭此码在 {endpoint} 换取令牌（授权类型 {grant}，客户端 {client}），具体见平台面向当事人的说明。"
    ),
    "Code {id} for {party}, valid until {until}, used {uses} times": (
        "访问码 {id}（{party}），有效期至{until}，已使用{uses}次"
    ),
    "Revoke": "撤销",
    "Valid for (days)": "有效天数",
    "A whole number of days from 1 to 60.": "请输入1至60之间的整数天数。",
    "Withdraw your proposal": "撤回您的提议",
    "It waits for a supervisor's approval; withdrawn, the case waits for a new determination.": (
        "该提议正在等待主管批准；撤回后，案件等待重新作出认定。"
    ),
    "Why": "理由",
    "Withdraw": "撤回",
    "At least {n} characters.": "至少 {n} 个字符。",
    "At most {n} characters.": "最多 {n} 个字符。",
    "Use only the letters, digits and signs this field allows.": "只能使用此栏允许的字母、数字和符号。",
    "This number is out of range.": "数值超出允许范围。",
    "Choose one of the offered values.": "请从给出的选项中选择。",
    "This value is not accepted.": "此值不被接受。",
    "Some fields were not accepted; see the notes beside them.": "部分栏目未被接受，请查看栏目旁的说明。",
    "This page is not for your account": "此页面不适用于您的账户",
    "Why it was targeted": "布控理由",
    "Risk score": "风险分值",
    "The case is closed: it can no longer be taken, handed over or given new evidence.": (
        "案件已结案：不能再领取、移交或补充证据。"
    ),
    "The case is closed; nothing more can be added to it.": "案件已结案，不能再补充内容。",
    "Enter a number.": "请输入数字。",
    "Enter a date (YYYY-MM-DD).": "请输入日期（YYYY-MM-DD）。",
    "Choose a file.": "请选择文件。",
    "Only photos (JPEG, PNG, WebP) and PDF documents are accepted.": "仅接受照片（JPEG、PNG、WebP）和 PDF 文件。",
    "The file is damaged or incomplete: it is not a whole photo or PDF document.": (
        "文件已损坏或不完整：不是完整的照片或 PDF 文件。"
    ),
    "The image is too large (at most 120 million pixels).": "图片过大（最多 1.2 亿像素）。",
    "The file is larger than 20 MB.": "文件超过 20 MB。",
    "Check the fields marked below.": "请检查下面标出的字段。",
    "Use 3-64 letters, digits, dots, dashes.": "请使用 3-64 个字母、数字、点或短横线。",
    "Each line needs: {what}.": "每行需要：{what}。",
    "yes": "是",
    "no": "否",
    "pending": "待定",
    # escalations and failed cases
    "Escalations": "升级事项",
    "1 case": "1 件案件",
    "What needs a person now: failed cases (a supervisor repairs them), steps a service refused or has not "
    "completed (do them by hand, then mark them done), time limits about to lapse.": (
        "需要人工处理的事项：出错的案件（由科长修复）、被服务拒绝或未完成的步骤（人工办理后标记为已处理）、"
        "即将届满的期限。"
    ),
    "Escalation": "升级事项",
    "Since": "时间",
    "What to do": "处理方式",
    "due {when}": "{when} 到期",
    "A supervisor repairs it.": "由科长修复。",
    "What was done": "处理情况",
    "Mark done": "标记为已处理",
    "{n} more: open the cases marked escalated below.": "另有 {n} 项：请打开下方标为已升级的案件。",
    "state before: {state}": "出错前状态：{state}",
    "found {when}": "发现于 {when}",
    "Check the reason and the timeline, then repair the case below.": "请核对原因和时间线，然后在下方修复案件。",
    "Ask a supervisor to repair it; instructions are refused until then.": "请联系科长修复；修复前不能下达指令。",
    "A time limit is about to lapse": "期限即将届满",
    "{deadline} ends {when}. Act before then; the escalation closes by itself once the time limit is met.": (
        "{deadline}于 {when} 届满。请在此之前处理；期限内办结后升级事项自动关闭。"
    ),
    "A service refused the step {step}: {why}. Do the step by hand, then mark it done here.": (
        "服务拒绝了步骤“{step}”：{why}。请人工办理，然后在此标记为已处理。"
    ),
    "No such escalation.": "没有此升级事项。",
    "Say what was done (at least 3 characters).": "请说明处理情况（至少 3 个字符）。",
    "The escalation is resolved.": "升级事项已处理。",
    "The escalation could not be resolved; open the case to see why.": "升级事项未能处理，请打开案件查看原因。",
    "Interventions": "人工干预",
    "What was done to the case outside its workflow, and by whom.": "在案件流程之外对案件所做的处理及处理人。",
}

# Codes the services answer, shown in words.
LABELS: dict[str, tuple[str, str]] = {
    # states
    "opened": ("opened", "已立案"),
    "suspended": ("suspended, holder notified", "已中止放行，已通知权利人"),
    "awaiting_application": ("awaiting the holder's application", "等待权利人申请"),
    "detained": ("detained", "已扣留"),
    "undetermined": ("cannot be determined", "无法认定"),
    "hearing": ("hearing right", "听证告知"),
    "seized": ("seized", "已扣押"),
    "released": ("released", "已放行"),
    "confiscated": ("confiscated", "已没收"),
    "destroyed": ("destroyed", "已销毁"),
    "forfeited": ("forfeited", "已没入"),
    "handed_to_court": ("handed to the court", "已移交法院"),
    "excluded": ("excluded", "已拒绝入境"),
    "failed": ("failed: needs repair", "出错：需修复"),
    # deadlines
    "holder_reply": ("holder's reply", "权利人答复"),
    "customs_determination": ("customs determination", "海关认定"),
    "release_ex_officio": ("release ex officio", "依职权放行"),
    "court_notice": ("court assistance notice", "法院协助执行通知"),
    "court_notice_application": ("court notice (application)", "法院协助执行通知（依申请）"),
    "application_for_action": ("application for action", "申请采取行动"),
    "holder_confirmation": ("holder's confirmation", "权利人确认"),
    "declarant_reply": ("declarant's reply", "申报人答复"),
    "importer_response": ("importer's response", "进口商答复"),
    "detention_notice": ("notice of detention", "扣留通知"),
    "seizure_decision": ("seizure decision", "扣押决定"),
    "hearing_request": ("hearing request", "听证申请"),
    "petition": ("petition", "申诉"),
    "release_application": ("release unless a court acts (application)", "依申请：无法院通知即放行"),
    "notify_parties": ("notify the parties", "通知当事人"),
    "afa_after_ex_officio": ("holder's application for action", "权利人申请采取行动"),
    "confirm_and_agree": ("holder confirms and agrees to destruction", "权利人确认并同意销毁"),
    "confirm_and_agree_perishable": ("holder confirms (perishable goods)", "权利人确认（易腐货物）"),
    "extension": ("extension", "延期"),
    "small_consignment_declarant": ("declarant's answer (small consignment)", "申报人答复（小件）"),
    "small_consignment_holder_proceedings": ("holder's proceedings (small consignment)", "权利人诉讼（小件）"),
    "afa_decision": ("decision on the application for action", "申请决定"),
    "seizure": ("seizure", "扣押"),
    "post_seizure_disclosure": ("disclosure after seizure", "扣押后披露"),
    "eu_small_consignment": ("EU small consignment", "欧盟 小件程序"),
    # directions, transport
    "import": ("import", "进口"),
    "export": ("export", "出口"),
    "transit": ("transit", "过境"),
    "sea": ("sea", "海运"),
    "air": ("air", "空运"),
    "road": ("road", "公路"),
    "rail": ("rail", "铁路"),
    "post": ("post", "邮递"),
    "express": ("express", "快件"),
    "other": ("other", "其他"),
    "in_person": ("in person", "直接送达"),
    "fax": ("fax", "传真"),
    # procedure modes, roles
    "ex_officio": ("ex officio", "依职权"),
    "cn_ex_officio": ("CN ex officio", "中国 依职权保护"),
    "cn_application": ("CN on application", "中国 依申请保护"),
    "eu": ("EU Reg. 608/2013", "欧盟 第608/2013号条例"),
    "eu_ex_officio": ("EU ex officio", "欧盟 依职权"),
    "eu_application": ("EU on application", "欧盟 依申请"),
    "us": ("US 19 CFR 133", "美国 19 CFR 133"),
    "us_detention": ("US detention", "美国 扣留"),
    "application": ("on application", "依申请"),
    "officer": ("officer", "关员"),
    "supervisor": ("supervisor", "科长"),
    "rights_holder": ("rights holder", "权利人"),
    # deadline status, delivery
    "pending": ("running", "进行中"),
    "met": ("met", "已满足"),
    "lapsed": ("lapsed", "已届满"),
    "cancelled": ("cancelled", "已取消"),
    "delivered": ("delivered", "已送达"),
    "undeliverable": ("undeliverable", "无法送达"),
    "not_configured": ("not configured", "未配置"),
    "retrying": ("retrying", "重试中"),
    "email": ("e-mail", "电子邮件"),
    "webhook": ("webhook", "Webhook"),
    "rec_pending": ("pending approval", "待审批"),
    "rec_active": ("active", "有效"),
    "rec_refused": ("refused", "已驳回"),
    "rec_expired": ("expired", "已过期"),
    "rec_revoked": ("revoked", "已撤销"),
    "active": ("active", "有效"),
    "refused": ("refused", "已驳回"),
    "expired": ("expired", "已过期"),
    "revoked": ("revoked", "已撤销"),
    # history events
    "case_opened": ("case opened", "立案"),
    "holder_notified": ("holder notified", "已通知权利人"),
    "holder_replied": ("holder replied", "权利人已答复"),
    "guarantee_received": ("guarantee received", "收到担保"),
    "guarantee_insufficient": ("guarantee insufficient", "担保不足"),
    "goods_detained": ("goods detained", "货物已扣留"),
    "goods_detained_ex_officio": ("goods detained ex officio", "依职权扣留货物"),
    "customs_determined": ("customs determined", "海关已认定"),
    "deadline_set": ("time limit set", "设定期限"),
    "deadline_met": ("time limit met", "期限已满足"),
    "deadline_lapsed": ("time limit ran out", "期限届满"),
    "deadline_cancelled": ("time limit cancelled", "期限取消"),
    "deadline_escalated": ("escalated", "已升级"),
    "deadline_extended": ("time limit extended", "期限延长"),
    "notice_sent": ("notice sent", "通知已发出"),
    "hearing_right_notified": ("hearing right notified", "已告知听证权利"),
    "penalty_proposed": ("penalty proposed", "拟处罚"),
    "referred_to_police": ("referred to the police", "移送公安"),
    "court_notice_received": ("court notice received", "收到法院通知"),
    "infringement_not_determined": ("infringement not determined", "无法认定侵权"),
    "disposal_facts_recorded": ("disposal facts recorded", "记录处置事实"),
    "guarantee_settled": ("guarantee settled", "担保已结算"),
    "party_submission": ("submission recorded", "已记录当事人意见"),
    "detention_notice_issued": ("notice of detention issued", "已发出扣留通知"),
    "disclosure_to_mark_owner": ("disclosure to the mark owner", "向商标权人披露"),
    "holder_and_declarant_notified": ("holder and declarant notified", "已通知权利人和申报人"),
    "application_received": ("application received", "收到申请"),
    "application_accepted": ("application accepted", "申请已受理"),
    "small_consignment_procedure": ("small-consignment procedure", "小件程序"),
    "declarant_objected": ("declarant objected", "申报人提出异议"),
    "approval_requested": ("approval requested", "已提请批准"),
    "approval_granted": ("approved", "已批准"),
    "approval_refused": ("approval refused", "未批准"),
    "approval_lapsed": ("approval lapsed", "批准请求失效"),
    "case_repaired": ("case repaired", "案件已修复"),
    "guarantee_held": ("guarantee held", "担保已冻结"),
    "guarantee_refused": ("guarantee refused", "担保被拒绝"),
    "trademark": ("trademark", "商标"),
    "copyright": ("copyright", "著作权"),
    "patent": ("patent", "专利"),
    # notice kinds, decisions, outcomes
    "suspension": ("suspension", "中止放行"),
    "detention": ("detention", "扣留"),
    "confiscation": ("confiscation", "没收"),
    "cannot_determine": ("cannot determine", "无法认定"),
    "court_handover": ("handed to the court", "移交法院"),
    "application_needed": ("application needed", "需提交申请"),
    "confirmation_needed": ("confirmation needed", "需确认"),
    "hearing_right": ("hearing right", "听证权利"),
    "police_referral": ("police referral", "移送公安"),
    "disclosure": ("disclosure", "披露"),
    "destruction": ("destruction", "销毁"),
    "forfeiture": ("forfeiture", "没入"),
    "escalation": ("escalation", "升级"),
    "detain": ("detain", "申请扣留"),
    "no_detention": ("no detention", "无需扣留"),
    "release": ("release", "放行"),
    "infringing": ("infringing", "侵权"),
    "not_infringing": ("not infringing", "不侵权"),
    "held": ("held", "已冻结"),
    "withdrawn": ("withdrawn from the case", "已撤出本案"),
    "settled": ("settled", "已结算"),
    # webhook signing keys
    "current": ("current", "当前"),
    "retiring": ("retiring (still verifies)", "即将停用（仍可验证）"),
    "retired": ("retired", "已停用"),
    "public_welfare": ("public welfare use", "用于社会公益"),
    "sale_to_holder": ("sold to the holder", "有偿转让给权利人"),
    "auction": ("auction", "拍卖"),
    # assignment
    "assigned": ("assigned", "已分配"),
    "handed_over": ("handed over", "已移交"),
    # submission kinds
    "non_infringement_statement": ("non-infringement statement", "不侵权说明"),
    "inspection_request": ("inspection request", "查看货物申请"),
    "counter_guarantee": ("counter-guarantee", "反担保"),
    "agrees_to_destruction": ("agrees to destruction", "同意销毁"),
    "objects_to_destruction": ("objects to destruction", "反对销毁"),
    "confirms_infringement": ("confirms infringement", "确认侵权"),
    "proceedings_started": ("proceedings started", "已提起诉讼"),
    "extension_request": ("extension request", "延期申请"),
    # fine tiers
    "none": ("no penalty", "不予处罚"),
    "mitigated": ("mitigated", "减轻"),
    "lighter": ("lighter", "从轻"),
    "ordinary": ("ordinary", "一般"),
    "heavier": ("heavier", "从重"),
    # parties
    "holder": ("rights holder", "权利人"),
    "consignee": ("consignee", "收货人"),
    "consignor": ("consignor", "发货人"),
    "declarant": ("declarant", "申报人"),
    "importer": ("importer", "进口商"),
    "evidence": ("examination evidence", "查验证据"),
    "holder_answer": ("holder's identification", "权利人认定意见"),
    "guide": ("guide image", "指南图片"),
    # escalations, failures and the steps the case workflow asks services to do
    "deadline": ("time limit", "期限"),
    "case_failed": ("case failed", "案件出错"),
    "step_refused": ("step refused", "步骤被拒绝"),
    "step_delayed": ("step not completed", "步骤未完成"),
    "terminated": ("terminated", "已终止"),
    "timed_out": ("timed out", "已超时"),
    "canceled": ("cancelled", "已取消"),
    "escalation_resolved": ("escalation resolved", "升级事项已处理"),
    "case_access_issued": ("case access code issued", "已签发案件访问码"),
    "approval_withdrawn": ("proposal withdrawn", "提议已撤回"),
    "goods_confiscated": ("goods confiscated", "货物已没收"),
    "goods_destroyed": ("goods destroyed", "货物已销毁"),
    "goods_excluded": ("goods excluded", "货物被禁止入境"),
    "goods_forfeited": ("goods forfeited", "货物已没入"),
    "goods_handed_to_court": ("goods handed to the court", "货物已移交法院"),
    "goods_released": ("goods released", "货物已放行"),
    "importer_not_served": ("the importer's notice was not served in time", "未按期向进口商送达通知"),
    "signal_ignored": ("instruction ignored", "指令未被采纳"),
    "case_access_revoked": ("case access code revoked", "案件访问码已撤销"),
    "workflow_running_again": ("workflow running again", "流程已恢复运行"),
    "workflow": ("workflow", "流程"),
    "place_hold": ("place the hold", "实施货物控制"),
    "hold_action": ("hold instruction", "货物控制指令"),
    "hold_guarantee": ("take the guarantee", "收取担保"),
    "settle_guarantee": ("settle the guarantee", "结算担保"),
    "record_disposition": ("record the disposal", "登记处置"),
    "send_notice": ("send the notice", "发送通知"),
    "serve_notice": ("serve the notice", "送达通知"),
    # events of consignment cases, revisions, calendars and ignored input
    "approval_ignored": ("approval not applied", "批准未生效"),
    "calendar_published": ("calendar published", "已发布日历"),
    "court_notice_ignored": ("court notice not applied", "法院通知未生效"),
    "deadline_retimed": ("time limit re-timed", "期限已重新计算"),
    "declaration_revised": ("declaration revised", "报关单已修改"),
    "determination_ignored": ("determination not applied", "认定未生效"),
    "guarantee_ignored": ("guarantee not applied", "担保未生效"),
    "guarantee_recomputed": ("guarantee recomputed", "担保金额已重新计算"),
    "guarantee_rejected": ("guarantee rejected", "担保被拒绝"),
    "hearing_concluded": ("hearing concluded", "听证已结束"),
    "hearing_update_ignored": ("hearing update not applied", "听证信息未生效"),
    "line_joined": ("line joined the case", "商品项已并入本案"),
    "line_moved": ("line moved to another case", "商品项已移至其他案件"),
    "line_updated": ("line updated", "商品项已更新"),
    "line_withdrawn": ("line withdrawn", "商品项已撤出"),
    "lines_released": ("lines released", "商品项已放行"),
    "partial_release": ("partial release", "部分放行"),
    "lines_revision_ignored": ("revision not applied", "修改未生效"),
    "petition_decided": ("petition decided", "申诉已决定"),
    "petition_decision_overdue": ("petition decision overdue", "申诉决定已逾期"),
    "reply_ignored": ("reply not applied", "答复未生效"),
    "revision_not_applied": ("revision not applied", "修改未生效"),
    "step_recovered": ("step recovered", "步骤已恢复"),
    "submission_ignored": ("submission not applied", "提交未生效"),
    # notices to the parties of a case and their service
    "party_notice_sent": ("party notice sent", "当事人通知已发出"),
    # a notice recorded for an addressee with no e-mail or webhook registered: nothing went out
    "notice_unsent": (
        "notice recorded, not sent: no channel registered (serve it by other means)",
        "通知已记录但未发出：未登记送达渠道（请以其他方式送达）",
    ),
    "party_notice_unsent": (
        "party notice recorded, not sent: no channel registered (serve it by other means)",
        "当事人通知已记录但未发出：未登记送达渠道（请以其他方式送达）",
    ),
    "party_notice_served": ("party notice served", "当事人通知已送达"),
    "party_notice_undeliverable": ("party notice undeliverable", "当事人通知无法送达"),
    "notice_served_on_paper": ("notice served on paper", "通知已以书面方式送达"),
    "notice_service_ignored": ("service not recorded", "送达未记录"),
    "party_detention": ("notice of suspension or detention to the party", "中止放行或扣留通知（当事人）"),
    "penalty_decision": ("penalty decision", "处罚决定"),
    "holder_of_goods": ("holder of the goods", "货物持有人"),
}


# The reasons the case workflow records for its decisions and refusals, as officers read them in Chinese. A reason
# not listed here (one with the case's own figures in it) is shown as recorded.
REASONS: dict[str, str] = {
    "CBP determined that the goods are not counterfeit": "海关与边境保护局认定货物不是假冒商品",
    "customs determined that the goods do not infringe": "海关认定货物不侵权",
    "detention requested but no sufficient guarantee was posted within 3 working days": (
        "已申请扣留，但未在3个工作日内提供足额担保"
    ),
    "no application for action within 4 working days": "4个工作日内未提出采取行动的申请",
    "no reply from the rights holder within 3 working days": "权利人未在3个工作日内答复",
    "the applicant did not post the guarantee in time": "申请人未按期提供担保",
    "the declarant did not agree to destruction and consent is not deemed": "申报人未同意销毁，且不视为同意",
    "the declarant objected and no proceedings were started in time": "申报人提出异议，且未按期提起诉讼",
    "the rights holder neither confirmed infringement nor started proceedings": "权利人既未确认侵权，也未提起诉讼",
    "the rights holder stated that no detention is needed": "权利人表示无需扣留",
    "the consignee posted a counter-guarantee equal to the goods value": "收货人提供了与货物等值的反担保",
    "customs determined infringement": "海关认定侵权",
    "no hold was placed for this case": "本案未采取扣留措施",
    "a per-line case keeps its one line": "按商品项立案的案件保留其唯一商品项",
    "a proposal already waits for a supervisor's approval": "已有一项提议等待主管批准",
    "customs has already decided on the goods": "海关已对货物作出决定",
    "no importer response within 7 business days": "进口商未在7个工作日内答复",
    "no proposal waits for approval": "没有等待批准的提议",
    "reply window closed": "答复期限已届满",
    "the goods stay seized until an officer decides the petition": "在关员对申诉作出决定之前，货物继续扣押",
    "the line is no longer in the declaration": "该商品项已不在报关单中",
    "the line is now suspected of another holder's right": "该商品项现涉嫌侵犯另一权利人的权利",
    "the service has not completed the step; it is retried until it does": "服务尚未完成该步骤，将重试直至完成",
    "already served": "已送达",
    "no such notice to a party of this case": "本案没有发给当事人的此项通知",
    "only the person who proposed it withdraws a proposal": "只有提议人本人可以撤回提议",
    "no importer response within 7 business days of the service of the notice of detention": (
        "扣留通知送达后7个工作日内进口商未作答复"
    ),
    "the notice could not be delivered on any channel; no time limit runs until it is served": (
        "通知无法通过任何渠道送达；送达之前不起算任何期限"
    ),
    "the notice of detention was not served within the detention period: no importer window ran and nothing is "
    "disclosed": "扣留期间内未送达扣留通知：进口商答复期未起算，不披露任何信息",
    "this case was started before a proposal could be withdrawn; a supervisor refuses it instead": (
        "本案立案时尚不支持撤回提议；请由主管予以驳回"
    ),
    "the petition was denied: the seized goods are forfeited (19 U.S.C. 1526(e))": (
        "申诉被驳回：被扣押的货物予以没入（19 U.S.C. 1526(e)）"
    ),
}


# Reasons with the case's own figures in them: the pattern the workflow writes, and its Chinese with the figures.
REASON_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in (
        (
            r"^no court assistance notice within (\d+) working days of detention$",
            "扣留后{0}个工作日内未收到人民法院协助执行通知书",
        ),
        (r"^court assistance notice (.+) orders release$", "人民法院协助执行通知书（{0}）要求放行"),
        (
            r"^declaration revision (\d+): suspected line\(s\) join the case$",
            "报关单第{0}次修改：涉嫌侵权的商品项并入本案",
        ),
        (r"^declaration revision (\d+): the case's goods are detained$", "报关单第{0}次修改：本案货物予以扣留"),
        (r"^declaration revision (\d+): line\(s\) left the case$", "报关单第{0}次修改：商品项撤出本案"),
        (r"^declaration (.+) is not this case's$", "报关单{0}不属于本案"),
        (r"^the case is closed \((\w+)\)$", "案件已结案（{0:label}）"),
        (r"^the petition was granted by (.+): the seized goods are released$", "{0}批准了申诉：被扣押的货物予以放行"),
        (r"^request not admitted: (.+)$", "请求未被受理：{0}"),
        (r"^suspected infringement of recorded right (\S+) \((.+)\)$", "涉嫌侵犯已备案的权利{0}（{1}）"),
    )
]


# Why the risk service targeted a line (services/risk/scoring.py), as officers read it in Chinese: the figures
# and names as the service wrote them. ``{0:q}`` is a name it quoted ('NIKE'). A reason not listed is shown as
# written.
RISK_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in (
        (r"^brand field names recorded mark ('[^']*'|\"[^\"]*\")( \(.+\))?$", "品牌栏为已备案商标{0}{1:how}"),
        (r"^model field names recorded mark ('[^']*'|\"[^\"]*\")( \(.+\))?$", "型号栏为已备案商标{0}{1:how}"),
        (
            r"^description names recorded mark ('[^']*'|\"[^\"]*\")( \(.+\))?, which is also an ordinary word$",
            "品名含已备案商标{0}{1:how}（亦为普通词汇）",
        ),
        (r"^description names recorded mark ('[^']*'|\"[^\"]*\")( \(.+\))?$", "品名含已备案商标{0}{1:how}"),
        (r"^HS (\S+) is among the recorded goods$", "商品编码{0}属于备案商品范围"),
        (r"^HS (\S+) is outside the recorded goods$", "商品编码{0}不在备案商品范围内"),
        (
            r"^declared unit value (\S+) (\w+) is below (\S+) of the genuine minimum (.+)$",
            "申报单价{0} {1}低于正品最低价{3}的{2}",
        ),
        (r"^export from (\w+), where its border enforcement looks first$", "自{0}出口（边境执法重点）"),
        (r"^(\w+) through (\w+)$", "经{1}{0:label}"),
        (r"^small (\w+) parcel \(≈ RMB (\d+)\)$", "小额{0:label}包裹（约人民币{1}元）"),
        (r"^routed through transit hub (.+)$", "经中转枢纽{0}转运"),
        (r"^vague description (.+)$", "品名描述含糊：{0}"),
        (r"^description uses counterfeit vocabulary (.+)$", "品名使用仿冒词汇{0}"),
        (r"^(\w+) (.+) is a known infringer named in the recordation$", "{0:label}{1}为备案中列明的已知侵权人"),
        (r"^targeting profile (\S+) (.+) \(owner (.+)\)$", "布控规则{0} {1}（设定人{2}）"),
        (r"^cross-border e-commerce supervision mode (\w+)$", "跨境电商监管方式{0}"),
        (r"^genuine goods do not usually pass office (\w+)$", "正品通常不经{0}关区"),
        (r"^office (\w+) is a port the recordation names for infringing goods$", "{0}关区为备案中列明的侵权货物口岸"),
        (r"^seller ([^;]+) had (\d+) earlier cases? ending in confiscation$", "卖家{0}此前有{1}宗案件以没收结案"),
        (
            r"^(consignor|consignee|declarant) ([^;]+) had (\d+) earlier cases? ending in confiscation$",
            "{0:label}{1}此前有{2}宗案件以没收结案",
        ),
    )
]
_POINTS = re.compile(r"^(.*) \(([+-]\d+\.\d\d)\)$", re.S)


def task_reason(lang: str, text: object) -> str:
    """An escalation's reason: why a step was refused, then (after "; task: ") what to do by hand; the why in the
    page's language where it is a known one, the task as the workflow wrote it."""
    value = "" if text is None else str(text)
    why, sep, task = value.partition("; task: ")
    said = reason(lang, why)
    if said == why and ": " in why and lang == "zh":  # "serve notice: <kind>: <why>": the why after the step
        head, _, tail = why.rpartition(": ")
        if reason(lang, tail) != tail:
            step = "：".join(label(lang, part.strip().replace(" ", "_")) for part in head.split(": "))
            said = f"{step}：{reason(lang, tail)}"
    return f"{said}{'；任务：' if lang == 'zh' else '; task: '}{task}" if sep else said


_MODEL = re.compile(
    r"^model (\S+): probability (\S+) of infringement \(([+-]\d+\.\d\d)\)"
    r"(?:; strongest factors \(log-odds\): (.+))?$",
    re.S,
)


# The model's factors (services/risk/learning/features.LABELS) and their values, in Chinese.
FACTORS_ZH = {
    "rules' score": "规则评分",
    "suspected by the rules": "规则判定可疑",
    "recorded marks found": "发现的备案商标数",
    "mark match points": "商标匹配分",
    "mark is an ordinary word": "商标为普通词汇",
    "goods against the recorded goods": "商品与备案商品比对",
    "declared value / genuine minimum": "申报价值与正品最低价之比",
    "unit value (CNY)": "单价（人民币）",
    "line value (CNY)": "货值（人民币）",
    "undervalued signal": "低报价格信号",
    "known infringer signal": "已知侵权人信号",
    "infringer port signal": "侵权高发口岸信号",
    "unusual port signal": "异常口岸信号",
    "counterfeit vocabulary signal": "假冒用语信号",
    "vague signal": "品名模糊信号",
    "small parcel signal": "小包裹信号",
    "transit route signal": "转运路线信号",
    "free zone signal": "自贸区信号",
    "trader history signal": "经营者历史信号",
    "mark obfuscated signal": "商标变形信号",
    "targeting profile points": "布控规则分",
    "targeting profiles hit": "命中的布控规则数",
    "transit countries": "转运国家数",
    "brand field empty": "品牌栏为空",
    "model number in the text": "文字中含型号",
    "words in the description": "品名字数",
    "description in Chinese": "中文品名",
    "mark match": "商标匹配方式",
    "mark found in": "商标出现位置",
    "transport mode": "运输方式",
    "direction": "进出境方向",
    "this HS heading": "该税目",
    "this customs office": "该海关",
    "HS chapter": "HS章",
    "this origin country": "该原产国",
    "this destination country": "该目的国",
    "this consignor": "该发货人",
    "this consignee": "该收货人",
    "this recorded mark": "该备案商标",
    "words of the description": "品名用词",
}
FACTOR_VALUES_ZH = {
    "yes": "是",
    "no": "否",
    "unknown": "未知",
    "sea": "海运",
    "air": "空运",
    "road": "公路",
    "rail": "铁路",
    "post": "邮递",
    "express": "快件",
    "other": "其他",
    "import": "进口",
    "export": "出口",
    "transit": "转运",
    "exact": "完全一致",
    "alias": "别名",
    "normalised": "规范化后一致",
    "fuzzy": "近似",
    "descriptive": "描述性使用",
    "none": "无",
    "brand": "品牌栏",
    "model": "型号栏",
    "description": "品名",
    "nothing": "无",
    "among them": "属于备案商品",
    "outside them": "不属于备案商品",
    "not recorded": "未备案",
}
_FACTOR = re.compile(r"^(.+?)(?:: (.+?))? \(([+-]\d+\.\d\d)\)$")


def _factor_zh(text: str) -> str:
    """One of the model's factors (``label: value (+0.00)``) in Chinese; as written if not known."""
    hit = _FACTOR.match(text.strip())
    if hit is None:
        return text
    name, value, log_odds = hit.groups()
    if name.startswith("HS chapter ") and value is None:
        return f"HS第{name.removeprefix('HS chapter ')}章（{log_odds}）"
    zh = FACTORS_ZH.get(name)
    if zh is None:
        return text
    return f"{zh}：{FACTOR_VALUES_ZH.get(value, value)}（{log_odds}）" if value is not None else f"{zh}（{log_odds}）"


def risk_reason(lang: str, text: object) -> str:
    """A targeting reason in the page's language (its points kept as written)."""
    value = "" if text is None else str(text)
    if lang != "zh":
        return value
    model = _MODEL.match(value)
    if model:  # the learnt model's probability and its strongest factors
        version, p, pts, factors = model.groups()
        if factors:
            factors = "，".join(_factor_zh(f) for f in factors.split(", "))
        return f"模型{version}：侵权概率{p}（{pts}）" + (f"；主要因素（对数几率）：{factors}" if factors else "")
    found = _POINTS.match(value)
    body, points = (found.group(1), f"（{found.group(2)}）") if found else (value, "")
    whole = _risk_part(lang, body)
    if whole is not None:
        return whole + points
    parts = [_risk_part(lang, part) for part in body.split("; ")]  # trader history: one note per party
    said = [p for p in parts if p is not None]
    return "；".join(said) + points if len(said) == len(parts) else value


def _risk_part(lang: str, text: str) -> str | None:
    for pattern, zh in RISK_REASONS:
        hit = pattern.match(text)
        if hit:
            return _fill(lang, zh, hit.groups())
    return None


def reason(lang: str, text: object) -> str:
    """A reason the workflow recorded, in the page's language: a standard one from its table, one with the case's
    figures from its pattern (the figures as recorded); any other as recorded."""
    value = "" if text is None else str(text)
    if lang != "zh":
        return value
    if value in REASONS:
        return REASONS[value]
    for pattern, zh in REASON_PATTERNS:
        found = pattern.match(value)
        if found:
            return _fill(lang, zh, found.groups())
    return value


def _fill(lang: str, template: str, groups: tuple[str | None, ...]) -> str:
    """``{0}`` is a figure as recorded; ``{0:label}`` a code said in the page's language; ``{0:how}`` how the risk
    service found a mark (an alias of 'X'; glued to the Chinese text; ...)."""

    def one(m: re.Match[str]) -> str:
        value = groups[int(m.group(1))] or ""
        if m.group(2) == ":label":
            return label(lang, value)
        if m.group(2) == ":how":
            return _how(value)
        return value

    return re.sub(r"\{(\d)(:label|:how)?\}", one, template)


_HOW = (
    (re.compile(r"^an alias of (.+)$"), "{0}的别名"),
    (re.compile(r"^glued to the Chinese text$"), "与中文连写"),
    (re.compile(r"^in full-width letters$"), "全角字母"),
    (re.compile(r"^written together$"), "连写"),
    (re.compile(r"^written in Traditional characters$"), "繁体书写"),
)


def _how(text: str) -> str:
    parts = text.strip()
    if not parts:
        return ""
    out = []
    for part in parts.removeprefix("(").removesuffix(")").split("; "):
        for pattern, zh in _HOW:
            hit = pattern.match(part)
            if hit:
                out.append(zh.format(*hit.groups()))
                break
        else:
            out.append(part)
    return f"（{'；'.join(out)}）"


def t(lang: str, text: str, **values: object) -> str:
    out = ZH.get(text, text) if lang == "zh" else text
    return out.format(**values) if values else out


# Units of quantity as declarations write them (words, and the UN/ECE Rec. 20 codes clearance systems send).
UNITS: dict[str, str] = {
    "piece": "件",
    "pieces": "件",
    "pcs": "件",
    "pce": "件",
    "pc": "件",
    "item": "件",
    "unit": "个",
    "units": "个",
    "pair": "双",
    "pairs": "双",
    "pr": "双",
    "set": "套",
    "sets": "套",
    "dozen": "打",
    "dzn": "打",
    "box": "盒",
    "boxes": "盒",
    "bx": "盒",
    "carton": "箱",
    "cartons": "箱",
    "ct": "箱",
    "ctn": "箱",
    "kg": "千克",
    "kgm": "千克",
    "g": "克",
    "grm": "克",
    "t": "吨",
    "tne": "吨",
    "m": "米",
    "mtr": "米",
    "m2": "平方米",
    "mtk": "平方米",
    "l": "升",
    "ltr": "升",
    "bottle": "瓶",
    "bottles": "瓶",
    "bo": "瓶",
    "roll": "卷",
    "rolls": "卷",
    "sheet": "张",
    "sheets": "张",
    "bag": "袋",
    "bags": "袋",
    "pack": "包",
    "packs": "包",
    "pk": "包",
    "year": "年",
    "years": "年",
}


def unit(lang: str, code: object) -> str:
    """A unit of quantity in the page's language; an unknown unit shows as declared."""
    text = "" if code is None else str(code)
    return UNITS.get(text.strip().lower(), text) if lang == "zh" else text


# The title of a notice of each kind, for lists on the pages (the subject as sent stays as sent, beside it).
NOTICE_TITLES: dict[str, tuple[str, str]] = {
    "suspension": ("Notice of suspension of release", "中止放行通知"),
    "detention": ("Notice of detention", "扣留通知"),
    "cannot_determine": ("Infringement cannot be determined", "无法认定侵权通知"),
    "confiscation": ("Notice of confiscation", "没收通知"),
    "release": ("Notice of release", "放行通知"),
    "court_handover": ("Goods held for the court", "协助执行通知"),
    "application_needed": ("Application needed", "需提交申请通知"),
    "confirmation_needed": ("Confirmation of infringement needed", "需确认侵权通知"),
    "declarant_objected": ("The declarant objected to destruction", "申报人反对销毁通知"),
    "hearing_right": ("Notice of the right to a hearing", "听证权利告知书"),
    "police_referral": ("Referral to the police", "移送公安机关通知"),
    "disclosure": ("Disclosure of information", "信息披露通知"),
    "destruction": ("Notice of destruction", "销毁通知"),
    "forfeiture": ("Notice of forfeiture", "没入通知"),
    "escalation": ("Escalation", "升级通知"),
    "guarantee_refused": ("Guarantee refused", "担保未被接受通知"),
    "lines_changed": ("Lines of the case changed", "案件货物项变更通知"),
    "partial_release": ("Notice of partial release", "部分放行通知"),
    "seizure": ("Notice of seizure", "查扣通知"),
    "exclusion": ("Notice of exclusion", "禁止入境通知"),
    "party_detention": ("Notice of suspension or detention (to a party)", "中止放行或扣留通知（当事人）"),
    "penalty_decision": ("Administrative penalty decision", "行政处罚决定书"),
}


def notice_title(lang: str, kind: object) -> str:
    """A notice's title in the page's language; an unknown kind shows as its label."""
    found = NOTICE_TITLES.get(str(kind))
    if found is None:
        return label(lang, kind)
    return found[1] if lang == "zh" else found[0]


def label(lang: str, code: object) -> str:
    if code is None:
        return ""
    found = LABELS.get(str(code))
    if found is None:
        if ":" in str(code):  # a step and its kind (send_notice:suspension)
            return ": ".join(label(lang, part) for part in str(code).split(":", 1))
        return str(code).replace("_", " ")
    return found[1] if lang == "zh" else found[0]


def money(lang: str, value: object, currency: str | None = None) -> str:
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = format_decimal(amount, format="#,##0.00", locale=LOCALES[lang])
    return f"{currency} {text}" if currency else text


def number(lang: str, value: object) -> str:
    if value in (None, ""):
        return ""
    try:
        return format_decimal(Decimal(str(value)).normalize(), locale=LOCALES[lang])
    except (InvalidOperation, ValueError):
        return str(value)


def when(lang: str, value: object, tz: str | None = None) -> str:
    """An instant in the jurisdiction's time zone (or UTC), in the person's language."""
    if not value:
        return ""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    local = at.astimezone(zone)
    text = format_datetime(local, format="yyyy-MM-dd HH:mm", locale=LOCALES[lang])
    return f"{text} {local.tzname() or ''}".strip()


def until(lang: str, value: object, tz: str | None = None) -> str:
    """The end of a time limit: an instant at midnight is shown as 24:00 of the day before (the last day)."""
    if not value:
        return ""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    local = at.astimezone(ZoneInfo(tz) if tz else ZoneInfo("UTC"))
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        last = local.date() - timedelta(days=1)
        return f"{day(lang, last)} 24:00 {local.tzname() or ''}".strip()
    return when(lang, at, tz)


def day(lang: str, value: object) -> str:
    if not value:
        return ""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return format_date(d, format="yyyy-MM-dd (EEE)", locale=LOCALES[lang])


def time_left(lang: str, n: int | None) -> str:
    if n is None:
        return ""
    if n == 0:
        return t(lang, "due today")
    if n == 1:
        return t(lang, "1 working day left")
    if n < 0:
        return t(lang, "{n} working days overdue", n=-n)
    return t(lang, "{n} working days left", n=n)
