"""escalation.bpmn: escalated complaints E-1..E-9, 002 附件2 投诉升级处理流程."""

from ..model import F, Process, system_lane

RG = '${responsible_group}'


def _build():
    p = Process(
        'escalation', '投诉升级处理流程',
        'Escalated complaints, SPEC §4 (E-1..E-9); 002 附件2 投诉升级处理流程, 002 3.1.2 / 3.3.3 '
        '(quality-centre internal review of major escalations), 000 二.2 (scoring by level). Called from '
        '`normal` for major complaints (I-3), no solution (N-3), customer rejection (N-5) and overdue '
        'general complaints (N-11); all case data is passed in and out.',
        [('complaint_group', '投诉管理组', 1, 'group complaint_group', 0, 45),
         ('leadership', '上级主管/专业部门', 2, 'group leadership: the higher supervisor (E-1)', 40),
         system_lane(),
         ('quality_centre', '品管中心', 1, 'group quality_centre: 002 3.1.2', 0, 45),
         ('handler', '责任部门', 1, 'candidate group ${responsible_group} (I-4)'),
         ('callback', '回访员', 3, 'group callback', 30)],
        colw={16: 180})
    a = p.add
    cg_bypass = ('y', 'complaint_group', 0, 82)

    a('start', 'start_escalation', '投诉升级', 'complaint_group', 0, 0,
      doc='E (002 附件2): entered from normal.bpmn: major at intake (I-3), no solution (N-3), customer '
          'rejects (N-5), overdue general complaint (N-11).')
    a('xgw', 'merge_handover', '', 'complaint_group', 1, 0)
    a('user', 'handover', '填写升级移交单 (E-1)', 'complaint_group', 2, 0, groups='complaint_group',
      doc='E-1 (002 附件2: 明确升级处理的职责和权限; 移交的投诉信息应完整无缺,应包括事件经过、客户提出的要求、'
          '进展程度): who handles at the higher level, with what authority; complete hand-over. '
          'The escalation level (E-9) is not chosen here: it comes from where the customer escalated.',
      form=[F('escalation_handler', '升级处理责任人', 'Escalation handler', req=True, maxlength=50),
            F('handler_authority', '处理职责与权限', "Handler's duties and authority", 'text', req=True, maxlength=2000),
            F('event_history', '事件经过', 'What happened so far', 'text', req=True, minlength=10, maxlength=8000),
            F('customer_demand', '客户提出的要求', "Customer's demands", 'text', req=True, minlength=2, maxlength=4000),
            F('progress', '目前进展程度', 'Progress so far', 'text', req=True, minlength=2, maxlength=4000)])
    a('user', 'receive_handover', '核对移交信息 (E-1)', 'leadership', 3, 0, groups='leadership',
      doc='E-1 (002 附件2): an incomplete hand-over is refused and goes back to the sender.',
      form=[F('handover_complete', '移交信息完整(事件经过/客户要求/进展)', 'Hand-over complete (what happened, demands, progress)', 'boolean'),
            F('handover_missing', '缺失内容(不完整时填写)', 'What is missing (if incomplete)', 'text', maxlength=2000)])
    a('xgw', 'gw_handover_complete', '移交完整?', 'leadership', 4, 0, doc='E-1 (002 附件2).')

    a('sub', 'resolve', '分析、制定方案与答复 (E-2~E-5)', 'leadership', 5, 0, anchor_row=0, pad_bottom=30,
      doc='E-2..E-5 under the reply limit of E-5 (001 第七条: major 5 working days).')
    s = dict(parent='resolve')
    a('start', 'resolve_start', '开始处理', 'leadership', 5, 0, **s)
    a('xgw', 'merge_analyse', '', 'leadership', 6, 0, **s)
    a('user', 'analyse', '分析评估 (E-2)', 'leadership', 7, 0, groups='leadership', **s,
      doc='E-2 (002 附件2: 权衡客户和组织双方的利益,做出分析和评估; 必要时,可与客户多次沟通).',
      form=[F('evaluation', '分析与评估(权衡客户与公司利益)', "Analysis and evaluation (weighing the customer's and the company's interests)", 'text', req=True, maxlength=4000),
            F('needs_more_contact', '需与客户再次沟通', 'Needs another talk with the customer', 'boolean')])
    a('xgw', 'gw_more_contact', '需再次沟通?', 'leadership', 8, 0, **s, doc='E-2 (002 附件2).')
    a('user', 'contact_customer', '与客户沟通 (E-2)', 'leadership', 8, 1, groups='leadership', **s,
      doc='E-2 (002 附件2: 必要时,可与客户多次沟通): one more round, then evaluate again.',
      form=[F('contact_record', '沟通记录', 'Record of the talk', 'text', req=True, maxlength=4000)])
    a('xgw', 'merge_draft', '', 'leadership', 9, 0, **s)
    a('user', 'draft_solution', '制定解决方案 (E-4)', 'leadership', 10, 0, groups='leadership', **s,
      doc='E-4 (002 附件2: 解决方案应考虑可行性,成本及对双方的公平性).',
      form=[F('solution', '解决方案', 'Solution', 'text', req=True, maxlength=8000),
            F('feasibility', '可行性', 'Feasibility', 'text', req=True, maxlength=2000),
            F('cost_estimate', '成本估算(元)', 'Cost estimate (yuan)', 'double', min=0),
            F('fairness', '对双方的公平性', 'Fairness to both sides', 'text', req=True, maxlength=2000)])
    a('xgw', 'gw_major', '重大投诉?', 'system', 11, 0, **s,
      doc='E-3 (002 3.1.2, 3.3.3): major escalations get the quality centre\'s internal review.')
    a('user', 'qc_review', '品管中心内部评审 (E-3)', 'quality_centre', 11, 0, groups='quality_centre', **s,
      doc='E-3 (002 3.1.2: 为重大升级投诉的内部评审提供专业建议; 3.3.3: 执行通过内部评审的客户投诉处理措施): '
          'the solution is carried out only after it passed the review, so the review follows E-4.',
      form=[F('qc_advice', '品管中心专业意见', "Quality centre's expert advice", 'text', req=True, maxlength=4000),
            F('qc_approved', '内部评审通过', 'Internal review passed', 'boolean')])
    a('xgw', 'gw_qc_approved', '评审通过?', 'quality_centre', 12, 0, **s, doc='E-3 (002 3.3.3).')
    a('xgw', 'merge_reply', '', 'leadership', 13, 0, **s)
    a('user', 'reply_e5', '答复客户 (E-5)', 'leadership', 14, 0, groups='leadership', **s,
      doc='E-5 (002 附件2: 按规定的时限要求和服务规范进行答复; 001 第七条: major 5 working days).',
      form=[F('reply_content', '答复内容', 'Reply', 'text', req=True, maxlength=4000),
            F('accepted', '客户接受解决方案', 'Customer accepts the solution', 'boolean')])
    a('end', 'resolve_end', '已答复', 'leadership', 15, 0, **s)
    a('boundary', 'reply_due_e5', '答复时限届满', 'leadership', 5, attach='resolve', edge='t', at_col=6,
      interrupting=False,
      timer=('timeDate', "${due_reply_major if severity == 'major' else "
                         "(due_reply_complex if complex_case else due_reply_general)}"),
      doc='E-5 (001 第七条 自接到投诉之日起: major 5 working days, general 3, complex 7): counted from the receipt '
          '(due times computed at registration, I-1), not from the hand-over; a general complaint made major '
          'by N-11 keeps its clock (002 4.1.2.1 b). Overdue is recorded, work goes on.')
    a('service', 'record_e5_overdue', '记录答复超时 (E-5)', 'complaint_group', 7, 0, topic='record_overdue',
      params=[('rule_id', 'E-5')], doc='E-5 (001 第七条): timeliness record (A-2 及时率).')
    a('service', 'notify_e5_overdue', '通知上级主管 (E-5)', 'complaint_group', 10, 0, topic='notify',
      params=[('to', 'leadership'), ('template', 'e5_reply_overdue')], doc='E-5 (001 第七条).')
    a('end', 'end_e5_overdue', '已通知', 'complaint_group', 12, 0)

    a('xgw', 'gw_accepted', '客户接受?', 'leadership', 16, 0, label='tl',
      doc='E-6 (002 附件2: 如果客户不接受解决方案,则通知客户进入外部评审流程).')
    a('user', 'notify_external_review', '告知客户外部评审 (E-6)', 'complaint_group', 17, 0,
      groups='complaint_group',
      doc='E-6 (002 附件2; 000 一.1.7: consumer association, 12315, regulator are special channels of the '
          'complaint management group).',
      form=[F('external_review_body', '外部评审机构', 'External review body', 'enum', req=True, default='consumer_association', values=[
                ('consumer_association', '消费者协会', "Consumers' association"),
                ('hotline_12315', '12315', '12315'),
                ('regulator', '通信管理局/工信部', 'Communications administration or MIIT'),
                ('arbitration', '仲裁机构', 'Arbitration body')]),
            F('customer_notified', '已通知客户', 'Customer notified', 'boolean')])
    a('user', 'record_external_review', '登记外部评审结论 (E-6)', 'complaint_group', 18, 0,
      groups='complaint_group', doc='E-6 (002 附件2): the external decision is what gets implemented.',
      form=[F('external_review_result', '外部评审结论', 'Conclusion of the external review', 'text', req=True, maxlength=4000),
            F('final_solution', '最终执行方案', 'Final solution carried out', 'text', req=True, maxlength=4000)])
    a('xgw', 'merge_implement', '', 'handler', 19, 0)
    a('user', 'implement', '实施解决方案 (E-7)', 'handler', 20, 0, groups=RG,
      doc='E-7 (002 附件2: 实施解决方案).',
      form=[F('implementation', '实施情况', 'Implementation', 'text', req=True, maxlength=4000)])
    a('xgw', 'merge_callback_e7', '', 'callback', 21, 0)
    a('user', 'callback_e7', '回访客户 (E-7)', 'callback', 22, 0, groups='callback',
      due='${due_in_working_days(3)}',
      doc='E-7 (002 附件2: 及时对客户进行回访,以了解方案的效果和客户的满意程度; 004 第十一条: 在三个工作日内对投诉客户'
          '进行电话回访): due 3 working days after the implementation.',
      form=[F('callback_note', '回访记录', 'Call-back note', 'text', req=True, maxlength=2000),
            F('satisfied', '客户满意', 'Customer satisfied', 'boolean'),
            F('unsatisfied_next', '客户仍不满意时', 'If the customer is still dissatisfied', 'enum', default='remedy', values=[
                ('remedy', '重新处理(补救后再回访)', 'Handle again (remedy, then call back)'),
                ('escalate', '再次升级', 'Escalate again')])])
    a('xgw', 'gw_satisfied_e7', '客户满意?', 'callback', 23, 0, label='tl',
      doc='E-7 (002 附件2: 如果客户仍然不满意,应通知责任人采取补救行动; 004 第十三条: 若客户不满意,要重新处理或进行'
          '投诉升级): satisfied -> E-8; not satisfied -> remedial action and another call-back, or, as the '
          'call-back chose (unsatisfied_next), another round of escalation.')
    a('boundary', 'callback_due_e7', '回访时限届满', 'callback', 22, attach='callback_e7', interrupting=False, dx=0,
      timer=('timeDate', '${due_in_working_days(3)}'),
      doc='E-7 (004 第十一条): 3 working days; reminder, the call-back stays open.')
    a('service', 'notify_callback_due_e7', '提醒回访 (E-7)', 'callback', 22, 1, topic='notify',
      params=[('to', 'complaint_group'), ('template', 'e7_callback_due')], doc='E-7 (004 第十一条).')
    a('end', 'end_callback_reminder_e7', '已提醒', 'callback', 22, 2)
    a('user', 'remedy_e7', '采取补救措施 (E-7)', 'handler', 22, 0, groups=RG,
      doc='E-7 (002 附件2: 如果客户仍然不满意,应通知责任人采取补救行动).',
      form=[F('remedy_action', '补救措施', 'Remedy', 'text', req=True, maxlength=4000)])
    a('user', 'analyse_cause_e8', '原因与方案评估 (E-8)', 'complaint_group', 24, 0, groups='complaint_group',
      doc='E-8 (002 附件2: 分析投诉的原因制定纠正措施; 评估解决方案的有效性,将有效的解决方案纳入投诉处理服务规范文件). '
          'E-9 / S-2 (000 二.2): was the escalation caused by the responsible person being late or shirking?',
      form=[F('cause_analysis', '原因分析', 'Cause analysis', 'text', req=True, maxlength=4000),
            F('corrective_measures', '纠正措施', 'Corrective measures', 'text', req=True, maxlength=4000),
            F('solution_effective', '解决方案有效', 'Solution effective', 'boolean'),
            F('escalation_caused_by_staff', '因责任人未及时处理或推诿导致升级', 'Escalation caused by the person responsible acting late or passing it on', 'boolean'),
            F('liable_person', '导致升级的责任人(非首问责任人时填写)', 'Person who caused the escalation (if not the first-ask owner)', maxlength=50, person=True)])
    a('xgw', 'gw_effective', '方案有效?', 'complaint_group', 25, 0, doc='E-8 (002 附件2).')
    a('service', 'add_to_kb', '纳入处理知识库 (E-8)', 'complaint_group', 26, 0, topic='add_to_knowledge_base',
      doc='E-8 (002 附件2: 将有效的解决方案纳入投诉处理服务规范文件).')
    a('xgw', 'merge_kb', '', 'complaint_group', 27, 0)
    a('xgw', 'gw_caused', '需考核扣分?', 'complaint_group', 28, 0,
      doc='E-9 (000 二.2): escalation caused by the responsible person being late or shirking is scored by level.')
    a('service', 'book_escalation', '升级投诉扣分 (S-2b/S-2c)', 'complaint_group', 29, 0, topic='book_deductions',
      params=[('rule_id', "${'S-2c' if escalation_level in ('provincial', 'miit') else 'S-2b'}")],
      doc='E-9, S-2b (000 二.2: local escalation), S-2c (provincial escalation or MIIT complaint).')
    a('xgw', 'merge_end_e9', '', 'complaint_group', 30, 0)
    a('end', 'end_escalation', '升级处理完结', 'complaint_group', 31, 0)

    f = p.flow
    p.chain('merge_handover', 'handover', 'receive_handover', 'gw_handover_complete')
    f('gw_handover_complete', 'resolve', '完整', '${handover_complete}')
    f('gw_handover_complete', 'merge_handover', '不完整,退回', default=True,
      route={'out': 'b', 'in': 'b', 'pts': [(None, ('y', 'leadership', 1)), (('x', 1), None)]})
    p.chain('resolve_start', 'merge_analyse', 'analyse', 'gw_more_contact')
    f('gw_more_contact', 'contact_customer', '再次沟通', '${needs_more_contact}')
    f('gw_more_contact', 'merge_draft', '评估完成', default=True)
    f('contact_customer', 'merge_analyse', route={'out': 'l', 'in': 'b', 'pts': [(('x', 6), None)]})
    p.chain('merge_draft', 'draft_solution', 'gw_major')
    f('gw_major', 'qc_review', '重大', "${severity == 'major'}")
    f('gw_major', 'merge_reply', '一般', default=True, route={'style': 'h'})
    f('qc_review', 'gw_qc_approved')
    f('gw_qc_approved', 'merge_reply', '通过', '${qc_approved}', route={'style': 'hv'})
    f('gw_qc_approved', 'merge_draft', '退回修改', default=True,
      route={'out': 'b', 'in': 'b', 'pts': [(None, ('y', 'quality_centre', 0, 66)), (('x', 9), None)]})
    p.chain('merge_reply', 'reply_e5', 'resolve_end')
    p.chain('reply_due_e5', 'record_e5_overdue', 'notify_e5_overdue', 'end_e5_overdue')
    f('resolve', 'gw_accepted')
    f('gw_accepted', 'merge_implement', '接受', default=True)
    f('gw_accepted', 'notify_external_review', '不接受', '${not accepted}')
    p.chain('notify_external_review', 'record_external_review', 'merge_implement')
    f('merge_implement', 'implement')
    f('implement', 'merge_callback_e7', route={'style': 'h', 'x': ('xm', 20, 21)})
    p.chain('merge_callback_e7', 'callback_e7', 'gw_satisfied_e7')
    p.chain('callback_due_e7', 'notify_callback_due_e7', 'end_callback_reminder_e7')
    f('gw_satisfied_e7', 'analyse_cause_e8', '满意', '${satisfied}', route={'style': 'hv'})
    f('gw_satisfied_e7', 'remedy_e7', '不满意', default=True,
      route={'out': 't', 'in': 'r', 'pts': [(None, ('y', 'handler', 0))]})
    f('remedy_e7', 'merge_callback_e7',
      route={'out': 'b', 'in': 't', 'pts': [(None, ('lt', 'callback', 16)), (('x', 21), None)]})
    f('analyse_cause_e8', 'gw_effective')
    f('gw_effective', 'add_to_kb', '有效', '${solution_effective}')
    f('gw_effective', 'merge_kb', '无效', default=True,
      route={'out': 'b', 'in': 'b', 'pts': [(None, cg_bypass), (('x', 27), None)]})
    p.chain('add_to_kb', 'merge_kb', 'gw_caused')
    f('gw_caused', 'book_escalation', '是', '${escalation_caused_by_staff}')
    f('gw_caused', 'merge_end_e9', '否', default=True,
      route={'out': 'b', 'in': 'b', 'pts': [(None, cg_bypass), (('x', 30), None)]})
    p.chain('book_escalation', 'merge_end_e9', 'end_escalation')

    # E-7 / 004 第十三条 若客户不满意,要重新处理或进行投诉升级: the call-back may send the case round again.
    p.shift(24)
    a('script', 'raise_escalation_e7', '再次升级 (E-7)', 'complaint_group', 24, 0,
      script='escalation_round = escalation_round + 1',
      doc='E-7 (004 第十三条: 若客户不满意,要重新处理或进行投诉升级): the customer is still dissatisfied after the '
          'escalation and the call-back chose to escalate again: the case goes back to the hand-over (E-1) for '
          'another round; escalation_round counts the rounds. The E-5 reply limit keeps counting from the receipt '
          '(001 第七条 自接到投诉之日起: the due times carried since registration, not restarted); the escalation '
          'level (E-9, 000 二.2) stays where the customer escalated.')
    f('gw_satisfied_e7', 'raise_escalation_e7', '不满意,再次升级', "${not satisfied and unsatisfied_next == 'escalate'}",
      route={'out': 'b', 'in': 'b', 'pts': [(None, ('y', 'callback', 1)), (('x', 24), None)]})
    f('raise_escalation_e7', 'merge_handover',
      route={'out': 't', 'in': 't', 'pts': [(None, ('lt', 'complaint_group', 8)), (('x', 1), None)]})
    return p


def build():
    p = _build()
    p.shift(1, by=2)
    p.add('service', 'set_level', '确定升级级别 (E-9)', 'complaint_group', 1, 0, topic='escalation_level',
          doc='E-9 (000 二.2 导致用户本地升级投诉 / 省级升级投诉或工信部投诉): the level is where the customer '
              'escalated: the channel of receipt (工信部, 省通信管理局, 省公司网站, 集团公司; data/classification.toml) '
              'or the outside fact escalated_outside, else local. Sets escalated, escalation_level.')
    p.add('script', 'first_round_e7', '第一轮升级', 'complaint_group', 2, 0, script='escalation_round = 1',
          doc='E-7 (004 第十三条: 若客户不满意,要重新处理或进行投诉升级): the escalation\'s first round; a customer '
              'still dissatisfied at the call-back may send the case round again (raise_escalation_e7).')
    p.chain('start_escalation', 'set_level', 'first_round_e7', 'merge_handover')
    return p

