"""demand.bpmn: demands, suggestions, open consultations D-1..D-5, 002 附件3 需求处理流程."""

from ..model import F, Process

RG = '${responsible_group}'


def build():
    p = Process(
        'demand', '需求处理流程',
        'Demands, suggestions and consultations not answered on the spot, SPEC §5 (D-1..D-5); '
        '002 附件3 需求处理流程, 002 4.1.1.2, 004 第九、十条. Called from `normal` (I-2); kind and '
        'responsible_group come from classify / route.',
        [('intake', '受理员', 1, 'group intake: 004 第九条', 40),
         ('dept_head', '部门负责人', 1, 'the routed department\'s head (responsible_head): 004 第九条(三)(五) 审批登记表'),
         ('handler', '承办部门', 4, 'candidate group ${responsible_group} (I-4)'),
         ('callback', '回访员', 3, 'group callback', 30)],
        colw={6: 170})
    a = p.add

    a('start', 'start_demand', '收到需求/建议', 'intake', 0, 0,
      doc='D (002 附件3; 004 第九条): entered from normal.bpmn for kind demand, suggestion or a '
          'consultation not answered on the spot.')
    a('xgw', 'merge_register', '', 'intake', 1, 0)
    a('user', 'register', '登记并明确责任人 (D-1)', 'intake', 2, 0, groups='intake',
      doc='D-1 (002 附件3: 明确受理需求的责任人, 做好记录; 004 第九条(三)(五): 《客户咨询/建议情况登记表》).',
      form=[F('responsible_person', '责任人', 'Person responsible', req=True, maxlength=50),
            F('demand_summary', '需求/建议内容', 'Demand or suggestion', 'text', req=True, minlength=2, maxlength=4000)])
    a('user', 'approve_register', '审批登记表 (D-1)', 'dept_head', 3, 0, users='${responsible_head}',
      doc='D-1 (004 第九条(三)(五): 登记表提交部门负责人审批): the head of the department the demand was routed '
          'to (responsible_head, set by route in normal.bpmn) approves, no other head.',
      form=[F('register_approved', '审批通过', 'Approved', 'boolean'),
            F('register_opinion', '审批意见', 'Approval opinion', 'text', maxlength=2000)])
    a('xgw', 'gw_register_approved', '审批通过?', 'dept_head', 4, 0, doc='D-1 (004 第九条).')
    a('user', 'reply_d2', '答复需求解决方案 (D-2)', 'handler', 5, 1, groups=RG, due='${due_in_working_days(3)}',
      doc='D-2 (002 附件3: 答复客户需求解决方案; 004 第十条(四): 三个工作日内填写咨询、建议处理结果).',
      form=[F('reply_content', '答复内容', 'Reply', 'text', req=True, maxlength=4000),
            F('accepted', '客户接受答复方案', 'Customer accepts the reply', 'boolean')])
    a('boundary', 'reply_due_d2', '答复时限届满', 'handler', 5, attach='reply_d2', interrupting=False,
      timer=('timeDate', '${due_in_working_days(3)}'),
      doc='D-2 (004 第十条(四)): 3 working days; reminder, the task stays open.')
    a('service', 'notify_reply_due', '提醒答复 (D-2)', 'handler', 6, 3, topic='notify',
      params=[('to', 'complaint_group'), ('template', 'd2_reply_due')], doc='D-2 (004 第十条(四)).')
    a('end', 'end_reply_reminder', '已提醒', 'handler', 7, 3)
    a('xgw', 'gw_after_reply', '答复结果?', 'handler', 6, 1, label='tl',
      doc='D-3 / D-4 / D-5 (002 附件3; 004 第十条(三)).')
    a('user', 'refuse_service', '告知无法提供服务 (D-3)', 'handler', 7, 0, groups=RG,
      doc='D-3 (002 附件3: 如果客户不接受答复的解决方案,则明确告诉客户无法提供服务).',
      form=[F('refusal_note', '告知内容', 'What the customer was told', 'text', req=True, maxlength=2000)])
    a('end', 'end_refused', '需求关闭', 'handler', 8, 0)
    a('user', 'act_d4', '按答复内容实施 (D-4)', 'handler', 7, 1, groups=RG,
      doc='D-4 (002 附件3: 客户接受,则按答复的内容采取行动).',
      form=[F('action_taken', '实施内容', 'Action taken', 'text', req=True, maxlength=4000)])
    a('user', 'evaluate_suggestion', '评估并采纳建议 (D-5)', 'handler', 7, 2, groups=RG,
      doc='D-5 (004 第十条(三): 客户提出合理化建议应予以采纳): a reasonable suggestion is adopted and recorded.',
      form=[F('suggestion_adopted', '建议合理,予以采纳', 'Suggestion reasonable, adopted', 'boolean'),
            F('adoption_record', '采纳/不采纳说明', 'Why adopted or not', 'text', req=True, maxlength=4000)])
    a('xgw', 'gw_adopted', '采纳?', 'handler', 8, 2, doc='D-5 (004 第十条(三)).')
    a('end', 'end_adopted', '建议已采纳', 'handler', 9, 2, doc='D-5: recorded as adopted.')
    a('end', 'end_not_adopted', '建议未采纳', 'handler', 9, 3)
    a('xgw', 'merge_callback_d4', '', 'callback', 10, 0)
    a('user', 'callback_d4', '定期回访 (D-4)', 'callback', 11, 0, groups='callback',
      due='${due_in_working_days(3)}',
      doc='D-4 (002 附件3: 按需求记录定期进行回访,以了解问题的解决情况和客户的满意程度; 《客户投诉管理实施办法》第十一条 '
          '三个工作日内回访): each call-back is due 3 working days after the action or the remedy; the process '
          'owner changes the period here.',
      form=[F('callback_note', '回访记录', 'Call-back note', 'text', req=True, maxlength=2000),
            F('satisfied', '客户满意', 'Customer satisfied', 'boolean'),
            F('unsatisfied_next', '客户仍不满意时', 'If the customer is still dissatisfied', 'enum', default='remedy',
              values=[('remedy', '通知责任人补救(补救后再回访)', 'Remedy by the person responsible, then call back'),
                      ('escalate', '转为投诉,升级处理', 'Treat as a complaint and escalate')])])
    a('boundary', 'callback_due_d4', '回访时限届满', 'callback', 11, attach='callback_d4', interrupting=False, dx=0,
      timer=('timeDate', '${due_in_working_days(3)}'),
      doc='D-4 (《客户投诉管理实施办法》第十一条): the call-back period is over: the complaint group is reminded, the '
          'call-back stays open.')
    a('service', 'notify_callback_due_d4', '提醒回访 (D-4)', 'callback', 11, 1, topic='notify',
      params=[('to', 'complaint_group'), ('template', 'd4_callback_due')], doc='D-4 (004 第十一条).')
    a('end', 'end_callback_reminder_d4', '已提醒', 'callback', 11, 2)
    a('xgw', 'gw_satisfied_d4', '客户满意?', 'callback', 12, 0, label='tl',
      doc='D-4 (002 附件3: 如客户仍然不满意,则应通知责任人采取补救; 《客户投诉管理实施办法》第十三条 若客户不满意,要'
          '重新处理或进行投诉升级): satisfied -> closed; not satisfied -> a remedy and another call-back, or, when '
          'the customer will not accept another remedy, the matter becomes a complaint and is escalated.')
    a('end', 'end_done', '需求处理完结', 'callback', 13, 0)
    a('script', 'to_complaint_d4', '转为投诉 (D-4)', 'callback', 13, 1,
      script="demand_escalated = True\nkind_before_escalation = kind\nkind = 'complaint'",
      doc='D-4 (《XX集团客户投诉/需求管理办法》4.1.1.1 客户有效投诉: 客户…提出不满意的表示; 《客户投诉管理实施办法》'
          '第十三条 进行投诉升级): the customer\'s dissatisfaction with the remedy is a complaint now; the calling '
          'normal process escalates it (E-1..E-9) and then records, reviews and calls back as for a complaint.')
    a('end', 'end_to_complaint', '转投诉升级处理', 'callback', 14, 1)
    a('user', 'remedy_d4', '采取补救措施 (D-4)', 'handler', 11, 1, groups=RG,
      doc='D-4 (002 附件3: 如客户仍然不满意,则应通知责任人采取补救).',
      form=[F('remedy_action', '补救措施', 'Remedy', 'text', req=True, maxlength=4000)])

    f = p.flow
    p.chain('start_demand', 'merge_register', 'register', 'approve_register', 'gw_register_approved')
    f('gw_register_approved', 'reply_d2', '通过', '${register_approved}')
    f('gw_register_approved', 'merge_register', '退回补充', default=True,
      route={'out': 't', 'in': 't', 'pts': [(None, ('lt', 'intake', 14)), (('x', 1), None)]})
    p.chain('reply_due_d2', 'notify_reply_due', 'end_reply_reminder')
    p.chain('callback_due_d4', 'notify_callback_due_d4', 'end_callback_reminder_d4')
    f('reply_d2', 'gw_after_reply')
    f('gw_after_reply', 'evaluate_suggestion', '建议', "${kind == 'suggestion'}")
    f('gw_after_reply', 'act_d4', '接受', "${kind != 'suggestion' and accepted}")
    f('gw_after_reply', 'refuse_service', '不接受', default=True)
    f('refuse_service', 'end_refused')
    f('evaluate_suggestion', 'gw_adopted')
    f('gw_adopted', 'end_adopted', '采纳', '${suggestion_adopted}')
    f('gw_adopted', 'end_not_adopted', '不采纳', default=True)
    f('act_d4', 'merge_callback_d4', route={'style': 'h', 'x': ('xm', 9, 10)})
    p.chain('merge_callback_d4', 'callback_d4', 'gw_satisfied_d4')
    f('gw_satisfied_d4', 'end_done', '满意', '${satisfied}')
    f('gw_satisfied_d4', 'to_complaint_d4', '不满意,转投诉', "${not satisfied and unsatisfied_next == 'escalate'}")
    f('to_complaint_d4', 'end_to_complaint')
    f('gw_satisfied_d4', 'remedy_d4', '不满意', default=True,
      route={'out': 't', 'in': 'r', 'pts': [(None, ('y', 'handler', 1))]})
    f('remedy_d4', 'merge_callback_d4',
      route={'out': 'b', 'in': 't', 'pts': [(None, ('lt', 'callback', 16)), (('x', 10), None)]})
    return p
