"""normal.bpmn: intake (I-1..I-4) and the normal complaint process (N-1..N-12), 002 附件2."""

from ..model import F, Process, system_lane

RG = '${responsible_group}'


REGISTER = '''received_instant = receipt_instant(received_at)
due_verify = clock_hours(24, received_instant)
due_reply_general = due_in_working_days(3, received_instant)
due_reply_major = due_in_working_days(5, received_instant)
due_reply_complex = due_in_working_days(7, received_instant)
complex_case = False
escalated = False
demand_escalated = False
unsatisfied_next = "remedy"'''


def _build():
    p = Process(
        'normal', '普通投诉处理流程',
        'Intake and normal complaint handling. SPEC §2 (I-1..I-6) and §3 (N-1..N-12); '
        '002 附件2 正常投诉处理流程, 004 第九~十一条, 001 第七条. Major complaints go to '
        '`escalation` (I-3), demands/suggestions/open consultations to `demand` (I-2), a '
        'service-quality complaint against one call-centre agent first to `service_quality` (Q-1).',
        [('intake', '受理员', 2, 'group intake: registers, classifies, answers consultations (I-1..I-5)'),
         system_lane(2),
         ('complaint_group', '投诉管理组', 3, 'group complaint_group: 000 一.1 投诉管理组'),
         ('handler', '承办部门', 4, 'candidate group ${responsible_group} (set by route, I-4)', 40, 20),
         ('dept_head', '部门负责人', 1, 'group dept_head: 004 第十条(五)'),
         ('callback', '回访员', 3, 'group callback: 004 第十一条', 30)],
        colw={8: 120, 29: 200})
    a = p.add

    # ---------------------------------------------------------------- intake (I-1..I-4)
    a('start', 'start_received', '收到客户意见', 'intake', 0, 1,
      doc='I-1 (001 第五条; 客人投诉 第九条): every contact is registered within 24 h of receipt: who, '
          'contact, time, place, target, facts, channel, demand. I-5 (000 二 首问责任制): the first-ask owner is '
          'the staff member the customer first approached (a person of the organisation, optional: the '
          'investigation may name one later); the registering clerk is recorded apart (registered_by) and is '
          'never the first-ask owner by default. N-11 / S-3 (000 一.2, 二.3): channel 绿网工单 marks a '
          'green-net work order. I-6 (001 道路运输 第六条): no complainant, target or facts '
          '-> rejected before the case starts (required fields below); a receipt date after the day of '
          'registration (received_at max today) likewise.',
      form=[F('complainant_name', '投诉人', 'Complainant', req=True, maxlength=50),
            F('contact', '联系方式', 'Contact (phone or e-mail)', req=True, maxlength=100),
            F('received_at', '接诉时间', 'Received on', 'date', req=True, max='today'),
            F('place', '地点', 'Place', maxlength=200),
            F('target', '投诉对象', 'Complaint about (who or what)', req=True, maxlength=200),
            F('facts', '事实经过', 'What happened', 'text', req=True, minlength=5),
            F('channel', '受理渠道', 'Channel', 'enum', req=True, default='hotline', values=[
                ('hotline', '热线电话', 'Hotline'),
                ('email', '电子邮件', 'E-mail'),
                ('web', '网站', 'Website'),
                ('wechat', '微信', 'WeChat'),
                ('letter', '信函', 'Letter'),
                ('walk_in', '现场来访', 'Walk-in'),
                ('provincial_site', '省公司网站', "Provincial company's website"),
                ('media', '媒体', 'Media'),
                ('consumer_association', '消费者协会', "Consumers' association"),
                ('hotline_12315', '12315热线', '12315 hotline'),
                ('group_company', '集团公司', 'Group company'),
                ('miit', '工信部', 'MIIT'),
                ('comms_bureau', '省通信管理局', 'Provincial communications administration'),
                ('green_net', '绿网工单', 'Green-net work order')]),
            F('customer_segment', '客户类型', 'Customer segment', 'enum', default='public', values=[
                ('public', '公众客户', 'Consumer'),
                ('gov_ent', '政企客户', 'Government or enterprise customer')]),
            F('handling_unit', '承办单位', 'Handled by', 'enum', default='department', values=[
                ('department', '专业部门(中心、科室)', 'The specialised department'),
                ('county', '县(市)局(分公司)', 'The county bureau (branch)')]),
            F('customer_grid', '客户所属网格(未按分类路由时派往该网格, I-4)', "Customer's grid (gets the case when no category routes it, I-4)", maxlength=50),
            F('demand', '客户诉求', "Customer's demand", 'text'),
            F('prefecture_notified', '州公司通报的投诉(S-1)', 'Complaint notified by the prefecture company (S-1)', 'boolean'),
            F('first_ask_owner', '首问责任人(客户最先找到的员工,知道时填写)', 'First-ask owner (the employee the customer turned to first, if known)', maxlength=50, person=True),
            F('escalated_outside', '客户已向外升级投诉至(E-9)', 'Customer has escalated outside to (E-9)', 'enum', default='none', values=[
                ('none', '未向外升级', 'Not escalated outside'),
                ('local', '本地升级投诉', 'Escalated locally'),
                ('provincial', '省级升级投诉', 'Escalated to the province'),
                ('miit', '工信部投诉', 'Complained to MIIT')]),
            F('category', '投诉分类(五级节点)', 'Category (five-level node)', maxlength=200),
            F('amount', '涉及金额(元)', 'Amount involved (yuan)', 'double', default='0', min=0),
            F('media_exposed', '已被媒体曝光', 'Exposed in the media', 'boolean'),
            F('lawsuit', '已引发法律诉讼', 'Has led to a lawsuit', 'boolean'),
            F('group_lawsuit_risk', '可能引发群体性诉讼', 'May lead to a class action', 'boolean'),
            F('service_quality_agent_count', '被投诉话务员人数(服务质量投诉)', 'Number of call-centre agents complained about (service-quality complaint)', 'long', default='0', min=0),
            F('complained_agent', '被投诉话务员账号(服务质量投诉, Q-1/S-8)', "Complained-about agent's account (service-quality complaint, Q-1/S-8)", maxlength=100),
            F('customer_vip', 'VIP或专业户客户', 'VIP or business customer', 'boolean')])
    a('service', 'classify', '分类定级 (I-2, I-3)', 'system', 1, 0, topic='classify',
      doc='I-2 (004 第九条): kind in complaint/consultation/demand/suggestion. I-3 (002 4.1.2.1): severity '
          'major if amount >= 2000, media exposure, lawsuit or group-lawsuit risk, else general. '
          'Sets kind, severity.')
    a('service', 'route', '确定责任部门 (I-4)', 'system', 2, 0, topic='route',
      doc='I-4 (000 四; 004 第八条): routing table (data) from the category and, where a row says so, the '
          'customer segment (000 四.3 政企部: 不知情业务定制). Sets responsible_group, responsible_department, '
          'responsible_head (the head of the routed department, N-7), accept_group (N-1; 000 一.1.7) and '
          'preprocess_group (N-1; 000 一.2.1, 四.4).')
    a('xgw', 'gw_kind', '意见类型?', 'system', 3, 0, label='tl', doc='I-2 (004 第九条(二)~(五)): split by kind.')
    a('user', 'answer_consultation', '当场解答咨询 (I-2)', 'intake', 4, 0, groups='intake',
      doc='I-2 (004 第九条(三)): a consultation that can be answered on the spot is answered and closed; '
          'otherwise it is registered and handled as a demand (002 4.1.1.2).',
      form=[F('consultation_answer', '解答内容', 'Answer given', 'text', maxlength=2000),
            F('answered_on_spot', '已当场解答', 'Answered on the spot', 'boolean')])
    a('xgw', 'gw_answered', '已当场解答?', 'intake', 5, 0)
    a('end', 'end_consultation', '咨询已解答', 'intake', 6, 0, doc='I-2 (004 第九条(三)): closed on the spot.')
    a('xgw', 'merge_demand', '', 'intake', 5, 1)
    a('call', 'call_demand', '需求处理流程 (D)', 'intake', 6, 1, called='demand',
      doc='I-2 (004 第九条; 002 附件3): demands, suggestions and consultations not answered on the spot '
          'run the demand process D-1..D-5.')
    a('xgw', 'gw_demand_escalated', '转为投诉?', 'system', 7, 0,
      doc='D-4 (《客户投诉管理实施办法》第十三条 若客户不满意,要重新处理或进行投诉升级): a demand whose customer '
          'stays dissatisfied comes back as a complaint (demand_escalated) and is escalated.')
    a('end', 'end_demand', '需求已处理', 'intake', 8, 1)

    # ---------------------------------------------------------------- severity, 二解
    a('xgw', 'gw_severity', '投诉级别?', 'system', 3, 1,
      doc='I-3 (002 4.1.2.1): a major complaint goes straight to the escalation process.')
    a('call', 'call_escalation_major', '重大投诉升级处理 (I-3)', 'complaint_group', 4, 0, called='escalation',
      doc='I-3 (002 4.1.2.1 b; 002 附件2 投诉升级处理流程): major complaints are handled by escalation E-1..E-9.')
    a('xgw', 'gw_service_quality', '话务员服务质量投诉?', 'system', 4, 1,
      doc='Q-1 (001 第七章 6.1.1): a service-quality complaint against exactly one call-centre agent, '
          'customer not VIP/专业户, goes to the team leader for 二解 first.')
    a('call', 'call_service_quality', '服务质量投诉二解 (Q-1)', 'complaint_group', 5, 1,
      called='service_quality',
      doc='Q-1..Q-3 (001 第七章 6): the team leader calls back; sets sq_result to exempted, withdrawn or failed.')
    a('xgw', 'gw_sq_result', '二解结果?', 'system', 6, 1,
      doc='Q-3 (001 6.2): withdrawn -> closed; otherwise the normal process continues.')
    a('end', 'end_withdrawn', '客户撤销投诉', 'complaint_group', 7, 1)
    a('xgw', 'merge_accept', '', 'handler', 6, 0)

    # ---------------------------------------------------------------- N-1 .. N-5
    a('user', 'accept', '受理并明确责任人 (N-1)', 'handler', 7, 0, groups='${accept_group}',
      doc='N-1 (002 附件2: 明确受理投诉的责任人, 做好记录): a named responsible person is set and recorded. '
          'The routed group accepts; a complaint from a special channel is accepted by the complaint group '
          '(accept_group, 《投诉处理管理办法》一.1.7 特殊投诉渠道的归口受理). '
          'complex_case selects the 7-working-day limit of N-4 (001 质量投诉 第四章3).',
      form=[F('responsible_person', '责任人', 'Person responsible', req=True, maxlength=50),
            F('complex_case', '复杂投诉(答复时限7个工作日)', 'Complex complaint (reply due in 7 working days)', 'boolean'),
            F('accept_note', '受理记录', 'Acceptance note', 'text', maxlength=2000)])
    a('sub', 'handle', '调查与答复 (N-2~N-5)', 'handler', 8, 0, anchor_row=0,
      doc='N-2..N-5 under one deadline. N-4 (001 第七条; 001 质量投诉 第四章): reply within 3 working days '
          '(complex: 7) of receipt. N-11 (002 4.1.2.1 b): no final solution by then -> major, escalate.')
    s = dict(parent='handle')
    a('start', 'handle_start', '开始调查', 'handler', 8, 0, **s)
    a('xgw', 'merge_investigate', '', 'handler', 9, 0, **s)
    a('user', 'investigate', '调查核实 (N-2)', 'handler', 10, 0, groups=RG, **s,
      doc='N-2 (002 附件2; 001 质量投诉 第四章1): investigate and verify; initial verification within 24 h. '
          'S-6: name the liable person if it is not the first-ask owner.',
      form=[F('investigation_findings', '调查核实情况', 'Findings of the investigation', 'text', req=True, maxlength=4000),
            F('info_sufficient', '信息充分,可作判断', 'Information sufficient to decide', 'boolean'),
            F('solution_found', '已有可行解决方案', 'A workable solution is found', 'boolean'),
            F('proposed_solution', '拟定解决方案', 'Proposed solution', 'text', maxlength=4000),
            F('liable_person', '调查认定的责任人(非首问责任人时填写)', 'Person found liable (if not the first-ask owner)', maxlength=50)])
    a('boundary', 'investigate_24h', '24小时未核实', 'handler', 10, attach='investigate', **s,
      interrupting=False, dx=0, timer=('timeDate', '${due_verify}'),
      doc='N-2 (001 质量投诉 第四章1: 接到投诉后24小时内进行初步核实): 24 h from receipt (due_verify, set at '
          'registration); reminder, the task stays open.')
    a('service', 'notify_verify', '提醒承办部门核实 (N-2)', 'handler', 10, 1, topic='notify', **s,
      params=[('to', RG), ('template', 'n2_verify_within_24h')],
      doc='N-2 (001 质量投诉 第四章1): reminder to the responsible group.')
    a('end', 'end_verify_reminder', '已提醒', 'handler', 11, 1, **s)
    a('xgw', 'gw_info', '信息充分?', 'handler', 12, 0, **s,
      doc='N-2 (002 附件2): without enough information tell the customer the answer is delayed and investigate further.')
    a('user', 'inform_delay', '告知客户延迟答复 (N-2)', 'handler', 12, 1, groups=RG, **s,
      doc='N-2 (002 附件2: 应告诉客户延迟答复); N-4 (001 第七条3): the reason for an extension is told to the '
          'customer and recorded. N-12 (003): support from another department is requested here.',
      form=[F('delay_reason', '延迟答复原因(已告知客户)', 'Reason for the late reply (told to the customer)', 'text', req=True, maxlength=2000, overwrite=False),
            F('customer_informed_of_delay', '已告知客户延迟答复', 'Customer told of the late reply', 'boolean'),
            F('support_needed', '需要其他部门支撑', 'Support from another department needed', 'boolean'),
            F('support_department', '支撑部门(时限)', 'Supporting department (time limit)', 'enum', default='network', values=[
                ('network', '网络部(6小时)', 'Network department (6 hours)'),
                ('group_customer', '集团客户部(2小时)', 'Corporate customers department (2 hours)'),
                ('group_customer_onsite', '集团客户部上门(6小时)', 'Corporate customers department on site (6 hours)'),
                ('external_carrier', '基础运营商(6小时)', 'Network carrier (6 hours)')])])
    a('xgw', 'gw_support', '需部门支撑?', 'handler', 13, 1, **s,
      doc='N-12 (003 组织架构: 支撑时限): support requested?')
    a('user', 'support', '部门支撑处理 (N-12)', 'handler', 14, 1, groups='${support_group}', **s,
      doc='N-12 (003 支撑时限): the supporting department answers within its limit: network 6 h, group-customer '
          '2 h (on site 6 h), external carrier 6 h. Offered to the supporting department\'s group only '
          '(support_group, data/support.toml); an external carrier is followed up by the responsible group.',
      form=[F('support_result', '支撑处理结果', 'Result of the support', 'text', req=True, maxlength=4000),
            F('support_unit', '支撑部门/网格', 'Supporting department or grid', maxlength=100)])
    a('boundary', 'support_overdue', '支撑超时', 'handler', 14, attach='support', **s,
      interrupting=False, dx=30,
      timer=('timeDuration', '${support_limit}'),
      doc='N-12 (003; 000 二.5): support not delivered in its time limit (support_limit, data/support.toml); '
          'recorded and scored (an external carrier is recorded, never scored), the task stays open.')
    a('service', 'record_support_overdue', '记录支撑超时 (N-12)', 'handler', 15, 3, topic='record_overdue', **s,
      params=[('rule_id', 'N-12')], doc='N-12 (003): timeliness record for the supporting department.')
    a('service', 'book_s5', '支撑不力扣分 (S-5)', 'handler', 16, 3, topic='book_deductions', **s,
      params=[('rule_id', 'S-5')], doc='S-5 (000 二.5): department or grid that failed to support in time, 0.5.')
    a('end', 'end_support_overdue', '已考核', 'handler', 17, 3, **s)
    a('xgw', 'merge_retry', '', 'handler', 13, 2, **s)
    a('xgw', 'gw_solution', '有可行方案?', 'handler', 15, 0, **s,
      doc='N-3 (002 附件2): no adequate solution -> hand over to a higher supervisor / specialist department.')
    a('end', 'end_no_solution', '无可行方案', 'handler', 15, 1, **s,
      doc='N-3 (002 附件2): leads to escalation (solution_found is false).')
    a('user', 'reply', '答复客户处理方案 (N-4)', 'handler', 16, 0, groups=RG, **s,
      doc='N-4 (001 第七条; 002 附件2 答复客户处理方案): reply within 3/5/7 working days of receipt '
          '(general/major/complex); a late reply records its reason (001 第七条3).',
      form=[F('reply_content', '答复内容', 'Reply', 'text', req=True, maxlength=4000),
            F('extension_reason', '延期原因(超出时限时填写)', 'Reason for the extension (if past the time limit)', 'text', maxlength=2000),
            F('accepted', '客户接受答复方案', 'Customer accepts the reply', 'boolean')])
    a('xgw', 'gw_reply_accepted', '客户接受?', 'handler', 17, 0, **s,
      doc='N-5 (002 附件2): customer does not accept -> coordinate further, then escalate.')
    a('end', 'end_reply_accepted', '客户接受方案', 'handler', 18, 0, **s)
    a('user', 'coordinate', '进一步协调 (N-5)', 'handler', 17, 1, groups=RG, **s,
      doc='N-5 (002 附件2: 通过进一步协调后…移交): one more coordination; if the customer still does not '
          'accept the complaint is escalated.',
      form=[F('coordination_note', '协调情况', 'Coordination note', 'text', req=True, maxlength=4000),
            F('accepted', '协调后客户接受', 'Customer accepts after coordination', 'boolean', overwrite=True)])
    a('end', 'end_coordinated', '协调结束', 'handler', 18, 1, **s)
    a('boundary', 'reply_deadline', '答复时限届满', 'handler', 8, attach='handle', edge='t', at_col=9,
      timer=('timeDate', '${due_reply_complex if complex_case else due_reply_general}'),
      doc='N-4 (001 第七条: 自接到投诉之日起; 001 质量投诉 第四章2-3): 3 working days (complex 7) from receipt, '
          'computed at registration (due_reply_general, due_reply_complex), not from acceptance. '
          'N-11 (002 4.1.2.1 b): a general complaint without a final solution at its deadline becomes major '
          'and is escalated (interrupting).')
    a('service', 'record_reply_overdue', '记录超时 (N-11)', 'complaint_group', 10, 1, topic='record_overdue',
      params=[('rule_id', 'N-11')], doc='N-11 (002 4.1.2.1 b): timeliness record of the overdue complaint.')
    a('service', 'book_s3', '绿网工单超时扣分 (S-3)', 'complaint_group', 12, 1, topic='book_deductions',
      params=[('rule_id', 'S-3')],
      doc='N-11, S-3 (000 二.3 绿网工单处理超时的): overdue green-net work order scored: city KPI 0.01, complaint '
          'group 0.01, the green-net handler 0.05, or instead the person outside the complaint group who made '
          'it late (非投诉组人员导致超时的考核对应责任人).')
    a('script', 'make_major', '升级为重大投诉 (N-11)', 'complaint_group', 14, 1, script="severity = 'major'",
      doc='N-11 (002 4.1.2.1 b: 超过规定期限仍未形成最终解决方案的一般投诉 = 重大投诉).')
    a('xgw', 'gw_escalate', '需要升级?', 'handler', 19, 0,
      doc='N-3 / N-5 (002 附件2): no solution or the customer still rejects -> escalation process.')
    a('xgw', 'merge_escalate', '', 'complaint_group', 19, 1)
    a('call', 'call_escalation', '投诉升级处理 (N-3/N-5/N-11)', 'complaint_group', 20, 1, called='escalation',
      doc='N-3, N-5, N-11 -> escalation process E-1..E-9 (002 附件2 投诉升级处理流程).')
    a('xgw', 'merge_escalated', '', 'complaint_group', 21, 1,
      doc='N-7, N-9 (004 第十条(四)(五), 第十六条; 001 第八条): escalated and major cases come back for the '
          'record, the head\'s review, the outcome and the deductions.')

    # ---------------------------------------------------------------- N-6 .. N-10
    a('user', 'act', '按答复内容实施 (N-6)', 'handler', 20, 0, groups=RG,
      doc='N-6 (002 附件2: 按答复的内容采取行动).',
      form=[F('action_taken', '实施内容', 'Action taken', 'text', req=True, maxlength=4000)])
    a('xgw', 'merge_record', '', 'handler', 21, 0)
    a('user', 'record_four_elements', '填写四要素反馈表 (N-7)', 'handler', 22, 0, groups=RG,
      doc='N-7 (004 第十条(四)): 四要素: handler, time taken, handling process, result and customer '
          'satisfaction go into 《客户投诉处理反馈表》.',
      form=[F('handling_staff', '经手人员', 'Staff who handled it', req=True, maxlength=100),
            F('time_spent_hours', '处理经过时间(小时)', 'Time spent (hours)', 'double', req=True, min=0),
            F('handling_process', '处理过程', 'How it was handled', 'text', req=True, maxlength=4000),
            F('handling_result', '处理结果', 'Result', 'text', req=True, maxlength=4000),
            F('customer_satisfaction', '客户对处理结果的满意度', "Customer's satisfaction with the result", 'enum', req=True, values=[
                ('satisfied', '满意', 'Satisfied'),
                ('basically_satisfied', '基本满意', 'Mostly satisfied'),
                ('dissatisfied', '不满意', 'Dissatisfied')])])
    a('user', 'approve_record', '审核处理反馈表 (N-7)', 'dept_head', 23, 0, users='${responsible_head}',
      doc='N-7 (《客户投诉管理实施办法》第十条(五) 承办人员将《客户投诉处理反馈表》提交本部门负责人审核): the head of '
          'the department the case was routed to (responsible_head) reviews and signs, no other head.',
      form=[F('head_approved', '审核通过', 'Approved', 'boolean'),
            F('head_opinion', '部门负责人意见', "Department head's opinion", 'text', req=True, maxlength=2000)])
    a('xgw', 'gw_approved', '审核通过?', 'dept_head', 24, 0, doc='N-7 (004 第十条(五)).')
    a('xgw', 'merge_callback', '', 'callback', 25, 0)
    a('user', 'callback', '回访客户 (N-8)', 'callback', 26, 0, groups='callback',
      due='${due_in_working_days(3)}',
      doc='N-8 (004 第十一条): call back within 3 working days of the handler\'s feedback; satisfied -> record.',
      form=[F('callback_note', '回访记录', 'Call-back note', 'text', req=True, maxlength=2000),
            F('satisfied', '客户满意', 'Customer satisfied', 'boolean'),
            F('unsatisfied_next', '客户仍不满意时', 'If the customer is still dissatisfied', 'enum', default='remedy', values=[
                ('remedy', '重新处理(补救后再回访)', 'Handle again (remedy, then call back)'),
                ('escalate', '投诉升级', 'Escalate the complaint')])])
    a('boundary', 'callback_due', '回访时限届满', 'callback', 26, attach='callback', interrupting=False, dx=0,
      timer=('timeDate', '${due_in_working_days(3)}'),
      doc='N-8 (004 第十一条): 3 working days; reminder, the call-back stays open.')
    a('service', 'notify_callback_due', '提醒回访 (N-8)', 'callback', 26, 1, topic='notify',
      params=[('to', 'complaint_group'), ('template', 'n8_callback_due')], doc='N-8 (004 第十一条).')
    a('end', 'end_callback_reminder', '已提醒', 'callback', 26, 2)
    a('xgw', 'gw_satisfied', '客户满意?', 'callback', 27, 0, label='tl',
      doc='N-8 (002 附件2; 004 第十一条: 重新形成派单…处理至客户满意; 第十三条: 若客户不满意,要重新处理或进行投诉升级): '
          'satisfied -> outcome; not satisfied -> remedial action and another call-back, or escalation.')
    a('user', 'remedy', '采取补救措施 (N-8)', 'handler', 26, 0, groups=RG,
      doc='N-8 (002 附件2: 如客户仍然不满意,则应通知责任人采取补救行动): remedial action, then call back again.',
      form=[F('remedy_action', '补救措施', 'Remedy', 'text', req=True, maxlength=4000)])
    a('user', 'decide_outcome', '认定投诉结果 (N-9)', 'complaint_group', 28, 1, groups='complaint_group',
      doc='N-9 (001 第八条; 004 第十六条): upheld / not upheld / partly upheld; deductions if upheld and our '
          'responsibility. S-6: liable person = first-ask owner unless the investigation named another. '
          'S-1 (000 二.1 州公司通报的有理由投诉和服务质量类投诉): only a complaint the prefecture notified, at '
          'intake (prefecture_notified) or since (notified_later).',
      form=[F('outcome', '投诉结果', 'Outcome of the complaint', 'enum', req=True, values=[
                ('upheld', '成立', 'Upheld'),
                ('not_upheld', '不成立', 'Not upheld'),
                ('partly_upheld', '部分成立', 'Partly upheld')]),
            F('our_responsibility', '属我方责任', 'Our responsibility', 'boolean'),
            F('liable_party', '责任方', 'Liable party', 'enum', default='staff', values=[
                ('staff', '本公司人员(S-1)', 'Our staff (S-1)'), ('channel', '渠道人员(S-4)', 'Channel staff (S-4)')]),
            F('late_or_shirking', '经核实因责任人未及时处理或推诿用户导致(S-2a)', 'Verified as caused by the person responsible acting late or passing the customer on (S-2a)', 'boolean'),
            F('notified_later', '州公司已通报本投诉(受理后通报, S-1)', 'Prefecture company has notified this complaint (after acceptance, S-1)', 'boolean'),
            F('outcome_reason', '认定理由', 'Grounds for the outcome', 'text', req=True, maxlength=2000)])
    a('xgw', 'gw_upheld', '需考核扣分?', 'complaint_group', 29, 1,
      doc='N-9 (004 第十六条: 投诉事实成立且属于我方责任的 … 扣除相应分值).')
    a('service', 'book_outcome', '登记考核扣分 (S-1/S-4)', 'complaint_group', 30, 1, topic='book_deductions',
      params=[('rule_id', "${(['S-1'] if prefecture_notified or notified_later else []) + "
                          "(['S-4'] if liable_party == 'channel' else [])}")],
      doc='N-9, S-1 (《投诉处理管理办法》二.1 州公司通报的有理由投诉和服务质量类投诉: only complaints the prefecture '
          'notified), S-4 (二.4 渠道人员…在州公司每笔50元的酬金考核基础上,市公司对每件另计考核酬金100元: the '
          'channel\'s yuan come on top of the other lines, 以上考核适用于累计扣分): both when both hold.')
    a('xgw', 'gw_late_or_shirking', '未及时处理或推诿?', 'complaint_group', 31, 1,
      doc='S-2a (000 二.2: 经核实因责任人未及时处理或推诿用户导致产生服务质量投诉的, 考核责任人当月绩效0.05分/笔), '
          'cumulative with S-1/S-4 (以上考核适用于累计扣分).')
    a('service', 'book_s2a', '未及时处理或推诿扣分 (S-2a)', 'complaint_group', 32, 2, topic='book_deductions',
      params=[('rule_id', 'S-2a')],
      doc='S-2a (000 二.2): the responsible person (S-6: first-ask owner unless the investigation named another) 0.05.')
    a('xgw', 'merge_deductions', '', 'complaint_group', 33, 1)
    a('user', 'analyse_cause', '原因分析与纠正 (N-10)', 'complaint_group', 34, 1, groups='complaint_group',
      doc='N-10 (002 附件2: 分析投诉的原因,制定纠正措施…定期进行数据统计分析): feeds the periodic statistics (P-2).',
      form=[F('root_cause', '原因分析', 'Root cause', 'text', req=True, maxlength=4000),
            F('corrective_measures', '纠正措施', 'Corrective measures', 'text', req=True, maxlength=4000),
            F('preventive_measures', '预防措施', 'Preventive measures', 'text', maxlength=4000)])
    a('end', 'end_closed', '投诉处理完结', 'complaint_group', 35, 1)

    # ---------------------------------------------------------------- flows
    f = p.flow
    p.chain('classify', 'route', 'gw_kind')
    f('gw_kind', 'answer_consultation', '咨询', "${kind == 'consultation'}")
    f('gw_kind', 'merge_demand', '需求/建议', "${kind in ('demand', 'suggestion')}", route={'style': 'h'})
    f('gw_kind', 'gw_severity', '投诉', default=True)
    f('answer_consultation', 'gw_answered')
    f('gw_answered', 'end_consultation', '已解答', '${answered_on_spot}')
    f('gw_answered', 'merge_demand', '未能当场解答', default=True)
    p.chain('merge_demand', 'call_demand', 'gw_demand_escalated')
    f('gw_demand_escalated', 'end_demand', '已处理', default=True, route={'style': 'h'})
    f('gw_demand_escalated', 'merge_escalate', '转投诉,升级', '${demand_escalated}',
      route={'out': 'b', 'in': 't', 'pts': [(None, ('lt', 'complaint_group', 25)), (('x', 19), None)]})
    f('gw_severity', 'call_escalation_major', '重大', "${severity == 'major'}")
    f('call_escalation_major', 'merge_escalated', route={'out': 'r', 'in': 't', 'pts': [(('x', 21), None)]})
    f('gw_service_quality', 'call_service_quality', '单一话务员,非VIP',
      '${service_quality_agent_count == 1 and not customer_vip}', route={'style': 'h'}, label_at=(85, -17))
    f('gw_service_quality', 'merge_accept', '否', default=True)
    f('call_service_quality', 'gw_sq_result', route={'style': 'h'})
    f('gw_sq_result', 'end_withdrawn', '已撤销', "${sq_result in ('exempted', 'withdrawn')}", route={'style': 'h'})
    f('gw_sq_result', 'merge_accept', '二解不成功', default=True)
    p.chain('merge_accept', 'accept', 'handle', 'gw_escalate')
    # inside the sub-process
    p.chain('handle_start', 'merge_investigate', 'investigate', 'gw_info')
    p.chain('investigate_24h', 'notify_verify', 'end_verify_reminder')
    f('gw_info', 'inform_delay', '信息不足', '${not info_sufficient}')
    f('gw_info', 'gw_solution', '信息充分', default=True)
    f('inform_delay', 'gw_support')
    f('gw_support', 'merge_retry', '无需支撑', default=True)
    f('support', 'merge_retry', route={'out': 'b', 'in': 'r', 'pts': [(None, ('y', 'handler', 2))]})
    f('merge_retry', 'merge_investigate', route={'out': 'l', 'in': 'b', 'pts': [(('x', 9), None)]})
    p.chain('support_overdue', 'record_support_overdue', 'book_s5', 'end_support_overdue')
    f('gw_solution', 'end_no_solution', '无可行方案', '${not solution_found}')
    f('gw_solution', 'reply', '有方案', default=True)
    f('reply', 'gw_reply_accepted')
    f('gw_reply_accepted', 'end_reply_accepted', '接受', '${accepted}')
    f('gw_reply_accepted', 'coordinate', '不接受', default=True)
    f('coordinate', 'end_coordinated')
    # deadline -> major -> escalation
    f('reply_deadline', 'record_reply_overdue')
    p.chain('make_major', 'merge_escalate')
    f('gw_escalate', 'merge_escalate', '需升级', '${not solution_found or not accepted}')
    f('gw_escalate', 'act', '客户接受', default=True)
    p.chain('merge_escalate', 'call_escalation', 'merge_escalated', 'merge_record')
    p.chain('act', 'merge_record', 'record_four_elements', 'approve_record', 'gw_approved')
    f('gw_approved', 'merge_record', '退回补充', default=True,
      route={'out': 't', 'in': 'b', 'pts': [(None, ('y', 'handler', 0, 75)), (('x', 21), None)]})
    p.chain('merge_callback', 'callback', 'gw_satisfied')
    p.chain('callback_due', 'notify_callback_due', 'end_callback_reminder')
    f('gw_satisfied', 'remedy', '不满意', default=True,
      route={'out': 't', 'in': 'r', 'pts': [(None, ('y', 'handler', 0))]})
    f('remedy', 'merge_callback',
      route={'out': 'b', 'in': 't', 'pts': [(None, ('lt', 'callback', 16)), (('x', 25), None)]})
    f('decide_outcome', 'gw_upheld')
    f('gw_upheld', 'merge_deductions', '否', default=True,
      route={'out': 't', 'in': 't', 'pts': [(None, ('y', 'complaint_group', 0)), (('x', 33), None)]})
    f('book_outcome', 'gw_late_or_shirking')
    f('gw_late_or_shirking', 'book_s2a', '是', '${late_or_shirking}')
    f('gw_late_or_shirking', 'merge_deductions', '否', default=True)
    f('book_s2a', 'merge_deductions', route={'style': 'hv'})
    p.chain('analyse_cause', 'end_closed')
    return p


def _flows_after(p):
    """Flows of the nodes added by ``build`` after the first drawing (final column numbers)."""
    f = p.flow
    f('gw_approved', 'gw_called_back', '通过', '${head_approved}', route={'style': 'h'})
    f('gw_called_back', 'merge_callback', '未升级', default=True)
    f('gw_called_back', 'merge_outcome', '已回访 (E-7)', '${escalated}', route={'style': 'hv'})
    f('gw_satisfied', 'merge_outcome', '满意', '${satisfied}', route={'style': 'hv'})
    f('merge_outcome', 'decide_outcome')
    f('gw_upheld', 'find_responsible', '成立且我方责任',
      "${outcome in ('upheld', 'partly_upheld') and our_responsibility}")
    f('find_responsible', 'gw_named', route={'style': 'h'})
    f('gw_named', 'merge_named', '已有责任人', '${responsible_named}', route={'style': 'hv'})
    f('gw_named', 'name_responsible', '无人认定', default=True)
    f('name_responsible', 'merge_named', route={'style': 'hv'})
    f('merge_named', 'book_outcome')
    f('merge_deductions', 'gw_cause_done', route={'style': 'h'})
    f('gw_cause_done', 'end_escalated', '已升级 (E-8)', '${escalated}', route={'style': 'vh'}, label_at=(60, 325))
    f('gw_cause_done', 'analyse_cause', '未升级', default=True, route={'style': 'h'})


def build():
    p = _build()
    a, f = p.add, p.flow
    # ---------------------------------------------------------------- columns added after the first drawing
    p.shift(1)
    a('script', 'register_receipt', '登记接诉时间与时限 (I-1, N-4)', 'system', 1, 0,
      script=REGISTER,
      doc='I-1 (001 第五条): the receipt time is registered. N-4 (001 第七条: 自接到投诉之日起,一般投诉3个工作日、'
          '重大投诉5个工作日内给予答复; 001 质量投诉 第四章: 24小时内初步核实, 复杂投诉7个工作日): every '
          'receipt-anchored deadline is computed here, once, from received_at, and carried in the case so that '
          'acceptance, 二解 and escalation do not restart the clock (N-11, 002 4.1.2.1 b). '
          'Sets received_instant, due_verify, due_reply_general, due_reply_major, due_reply_complex, '
          'and the defaults complex_case, escalated, unsatisfied_next.')
    f('start_received', 'register_receipt')
    f('register_receipt', 'classify')
    # S-3 only for green-net work orders (000 二.3)
    a('xgw', 'gw_green_net', '绿网工单?', 'system', 12, 1,
      doc='S-3 (000 二.3 绿网工单处理超时的): only a green-net work order (channel 绿网工单) is scored for being late.')
    a('xgw', 'merge_green_net', '', 'complaint_group', 14, 1)
    f('record_reply_overdue', 'gw_green_net', route={'style': 'h'})
    f('gw_green_net', 'book_s3', '绿网工单', "${channel == 'green_net'}")
    f('gw_green_net', 'merge_green_net', '否', default=True, route={'style': 'hv'})
    p.chain('book_s3', 'merge_green_net', 'make_major')
    # escalated cases were called back in E-7: after the review they go to the outcome
    p.shift(26)
    a('xgw', 'gw_called_back', '已在升级流程回访?', 'system', 26, 1,
      doc='E-7 / N-8: an escalated case was called back in the escalation process (E-7); it goes on to the '
          'outcome (N-9), the others to the call-back (N-8).')
    p.shift(30)
    a('xgw', 'merge_outcome', '', 'complaint_group', 30, 1)
    # S-6: somebody must be named before the responsible person is scored
    p.shift(33, 4)
    a('service', 'find_responsible', '确定考核责任人 (S-6)', 'complaint_group', 33, 1, topic='find_responsible',
      doc='S-6 (000 二 投诉责任人判定,采用首问责任制): the responsible person is the one the investigation named, '
          'else the agent complained about, else the first-ask owner (I-5). Sets responsible_named, '
          'responsible_candidate.')
    a('xgw', 'gw_named', '有责任人?', 'system', 34, 1,
      doc='S-6: nobody named -> the complaint group is asked to name one; never the registering clerk.')
    a('user', 'name_responsible', '指定责任人 (S-6)', 'complaint_group', 35, 2, groups='complaint_group',
      doc='S-6 (000 二 首问责任制; 相关部门负连带责任): neither intake nor investigation named a first-ask owner or '
          'liable person: the complaint group names one. Left empty, no responsible-person line is booked.',
      form=[F('liable_person', '考核责任人', 'Person liable for the deduction', maxlength=50, person=True, overwrite=True),
            F('responsible_note', '认定说明', 'Note on the finding', 'text', maxlength=2000)])
    a('xgw', 'merge_named', '', 'complaint_group', 36, 1)
    p.shift(p.nodes['analyse_cause'].col)
    a('xgw', 'gw_cause_done', '已分析原因?', 'system', p.nodes['analyse_cause'].col - 1, 1,
      doc='N-10 / E-8: an escalated case had its cause analysed in E-8 (002 附件2 投诉升级处理流程).')
    a('end', 'end_escalated', '升级投诉处理完结', 'complaint_group', p.nodes['analyse_cause'].col + 1, 2)
    _flows_after(p)
    # N-12: the support request is routed to the supporting department (data/support.toml)
    p.shift(15)
    a('service', 'route_support', '确定支撑部门与时限 (N-12)', 'handler', 15, 1, topic='route_support',
      parent='handle',
      doc='N-12 (003 组织架构: 网络部6小时, 集团客户部2小时(上门6小时), 基础运营商6小时; 000 二.5): the support '
          'task goes to the supporting department (not to every handler), with its time limit, from '
          'data/support.toml. Sets support_group, support_unit, support_limit, support_scored.')
    f('gw_support', 'route_support', '需要支撑', '${support_needed}')
    f('route_support', 'support')
    # every service-quality complaint against an agent counts toward the team's 8 (VIP, several agents too)
    p.shift(5)
    a('service', 'register_sq_complaint', '登记话务员被投诉 (Q-3)', 'system', 5, 1, topic='count_team_complaints',
      params=[('optional', 'true')],
      doc='Q-3, S-8 (《服务质量投诉处理规范》6.2.1(3) 本组员工被投诉次数没有超过8次(含不通知回访或回访不接受的)): '
          'a complaint naming a complained agent counts for the agent\'s team and month here, also when it '
          'gets no 二解 (VIP / 专业户 customer, two or more agents). Sets sq_team, sq_team_leader, '
          'team_complaints_this_month, sq_exemption_possible.')
    f('register_sq_complaint', 'gw_service_quality')
    # N-8 / 004 第十三条 若客户不满意,要重新处理或进行投诉升级: the call-back may send the case to escalation
    f('gw_satisfied', 'merge_escalate', '不满意,升级', "${not satisfied and unsatisfied_next == 'escalate'}",
      route={'out': 'b', 'in': 't', 'pts': [(None, ('y', 'callback', 1, 55)), (('xm', 21, 22), None),
                                          (None, ('y', 'complaint_group', 0, 30)), (('x', 22), None)]})
    # 000 一.2.1, 四.4: pre-processing and interception of invalid complaints before acceptance
    p.shift(5, 4)
    a('xgw', 'gw_preprocess', '需预处理?', 'system', 5, 1,
      doc='N-1 (《投诉处理管理办法》一.2.1 绿网投诉处理专员负责绿网投诉的预处理,有效拦截; 四.4 由投诉组进行首次处理拦截'
          '无效的投诉工单): a complaint the routing table gives a pre-processing group (preprocess_group) is '
          'pre-processed before it is accepted.')
    a('user', 'preprocess', '预处理,拦截无效投诉', 'complaint_group', 6, 2, groups='${preprocess_group}',
      doc='N-1 (《投诉处理管理办法》一.2.1, 四.4): the green-net handlers (绿网工单) or the complaint group (工单 for a '
          'grid) check the work order first; an invalid complaint (无效投诉, 002 4.1.1.2) is intercepted and '
          'closed with the reason, a valid one goes on to acceptance.',
      form=[F('intercepted', '无效投诉,予以拦截', 'Invalid complaint: intercept it', 'boolean'),
            F('preprocess_note', '预处理意见', 'Pre-processing note', 'text', req=True, maxlength=2000)])
    a('xgw', 'gw_intercepted', '拦截?', 'complaint_group', 7, 2, label='tl',
      doc='N-1 (《投诉处理管理办法》一.2.1 有效拦截).')
    a('end', 'end_intercepted', '无效投诉已拦截', 'complaint_group', 8, 2)
    a('xgw', 'merge_preprocess', '', 'system', 8, 1)
    f('gw_severity', 'gw_preprocess', '一般', default=True)
    f('gw_preprocess', 'preprocess', '需预处理', "${preprocess_group != ''}")
    f('gw_preprocess', 'merge_preprocess', '否', default=True)
    p.chain('preprocess', 'gw_intercepted')
    f('gw_intercepted', 'end_intercepted', '无效,拦截', '${intercepted}')
    f('gw_intercepted', 'merge_preprocess', '有效', default=True,
      route={'out': 't', 'in': 'b', 'pts': [(None, ('y', 'complaint_group', 1)), (('x', 8), None)]})
    f('merge_preprocess', 'register_sq_complaint')
    # issue 13: the major complaint's escalation sits below the system lane's counting step, clear of the
    # service-quality gateway's branches
    p.nodes['call_escalation_major'].col = p.nodes['register_sq_complaint'].col
    return p
