"""crisis.bpmn: crisis complaint events C-3..C-7, 003 危机投诉事件快速反应机制."""

from ..model import F, Process, system_lane

RG = '${responsible_group}'


def notify(p, id, name, lane, col, row, to, template, doc):
    return p.add('service', id, name, lane, col, row, topic='notify',
                 params=[('to', to), ('template', template)], doc=doc)


def build():
    p = Process(
        'crisis', '危机投诉事件快速反应流程',
        'Crisis complaint events, SPEC §6 (C-3..C-7); 003 危机投诉事件快速反应机制 1-5. Started manually '
        '(C-1 a, c) or by the warning monitor (C-2, 003: 单类投诉件数达到门限阀值时,系统自动启动预警流程) '
        'with the start form\'s issue, category, crisis_trigger and warning_level (required; 3: 预警三级, '
        '003 危机投诉事件快速反应机制二); the watch also passes level3_recipients (data/crisis.toml).',
        [('leadership', '公司领导', 1, 'group leadership', 10),
         system_lane(),
         ('complaint_group', '投诉管理组', 2, 'group complaint_group: 003 投诉组/投诉部'),
         ('handler', '责任部门', 2, 'candidate group ${responsible_group} (I-4); several departments '
          'together when responsibility is unclear (003 2)'),
         ('pr', '公关部', 2, 'group pr: 003 2 统一解释口径')])
    a = p.add

    a('start', 'start_crisis', '危机事件触发', 'complaint_group', 0, 0,
      doc='C-1 (003: 网络/支撑/呼叫中心/产品故障或营销疏漏; 预警三级: 同一五级节点当天>=100件 或 同一问题月升级>=5件; '
          '政府部门重视) and C-2 (003: 系统自动启动预警流程, once per category and day). Natural disasters '
          'and social events are excluded (003 特别说明). 003 危机投诉事件快速反应机制二: warning_level is required '
          '(3 from the watch; a crisis reported by hand gives its level, 0 when it is no warning: C-1 a, c), so '
          'that a start without it is refused rather than stopped at gw_warning_level.',
      form=[F('issue', '危机事件', 'The crisis event', 'text', maxlength=4000),
            F('category', '问题分类(五级节点)', 'Category of the issue (leaf)', maxlength=200),
            F('crisis_trigger', '触发方式', 'How the crisis was raised', maxlength=50),
            F('warning_level', '预警级别(0: 非预警事件)', 'Warning level (0: not a warning)', 'long', req=True,
              min=0, max=3)])
    a('service', 'route_crisis', '确定责任部门 (I-4)', 'system', 1, 0, topic='route',
      doc='C-4 (003 2: 投诉部通过邮件将投诉问题告知主要责任部门): I-4 routing table; sets responsible_group.')
    a('xgw', 'gw_warning_level', '预警三级?', 'system', 2, 0,
      doc='003 危机投诉事件快速反应机制二 (投诉预警级别达到三级…通知公司高层分管领导;责任部门领导、主管;运营经理、'
          '售后经理、投诉主管), C-1 b: a warning of level 3 (warning_level, set to 3 by the watch of C-2) tells '
          'those people at once; any other level goes straight to the report.')
    a('service', 'notify_level3', '三级预警通知 (C-1)', 'complaint_group', 3, 0, topic='notify_warning',
      params=[('template', 'c2_level3_warning')],
      doc='003 危机投诉事件快速反应机制二 (预警级别达到三级: 通知公司高层分管领导;责任部门领导、主管;运营经理、'
          '售后经理、投诉主管), C-1 b, C-2: one message to each person the level3_recipients of data/crisis.toml '
          'name (the watch passes them with the case: leadership, the routed department\'s head, the operations '
          'and after-sales managers, the complaint-management head); sets warning_notified, and '
          'warning_unreached for a recipient that names nobody.')
    a('xgw', 'merge_warning', '', 'system', 4, 0)
    a('user', 'report', '1小时内上报 (C-3)', 'complaint_group', 5, 0, groups='complaint_group',
      doc='C-3 (003 1 及时上报): within 1 hour: issue, scope and count to the complaint group, PR and leaders.',
      form=[F('issue_description', '投诉问题', 'The issue complained about', 'text', req=True, minlength=2, maxlength=4000),
            F('impact_scope', '影响范围', 'Scope of the impact', 'text', req=True, maxlength=2000),
            F('complaint_count', '投诉量', 'Number of complaints', 'long', req=True, min=0),
            F('nationwide', '涉及全国范围', 'Nationwide', 'boolean'),
            F('responsibility_clear', '责任部门明确', 'Responsible department clear', 'boolean', default='true')])
    a('boundary', 'report_due', '1小时未上报', 'complaint_group', 5, attach='report', interrupting=False,
      timer=('timeDuration', 'PT1H'), doc='C-3 (003 1: 在1个小时内…通知): reminder, the report stays open.')
    notify(p, 'notify_report_overdue', '催报领导 (C-3)', 'complaint_group', 6, 1, 'leadership',
           'c3_report_overdue', 'C-3 (003 1).')
    a('end', 'end_report_reminder', '已催报', 'complaint_group', 7, 1)
    notify(p, 'notify_pr', '通知公关部 (C-3)', 'complaint_group', 6, 0, 'pr', 'c3_crisis_report',
           'C-3 (003 1: 通过邮件通知投诉组、公关部及相关领导).')
    notify(p, 'notify_leadership', '通知公司领导 (C-3)', 'complaint_group', 7, 0, 'leadership',
           'c3_crisis_report', 'C-3 (003 1).')
    a('pgw', 'split_remedy', '快速补救', 'handler', 8, 0,
      doc='C-4 (003 2 快速补救): solution and unified explanation in parallel.')
    a('user', 'solution', '2小时内出解决方案 (C-4)', 'handler', 9, 0, groups=RG,
      doc='C-4 (003 2: 要求涉及部门2小时内提供客户投诉解决方案; 责任部门不明确的,由多个部门协同处理,待解决后开会分析定责).',
      form=[F('crisis_solution', '客户投诉解决方案', 'Solution for the complaints', 'text', req=True, maxlength=8000),
            F('departments_involved', '参与处理部门', 'Departments involved', maxlength=200)])
    a('boundary', 'solution_due', '2小时未提供方案', 'handler', 9, attach='solution', interrupting=False,
      timer=('timeDuration', 'PT2H'), doc='C-4 (003 2): 2 hours; reminder, the task stays open.')
    notify(p, 'notify_solution_overdue', '催办解决方案 (C-4)', 'handler', 10, 1, 'leadership',
           'c4_solution_overdue', 'C-4 (003 2).')
    a('end', 'end_solution_reminder', '已催办', 'handler', 11, 1)
    a('user', 'explanation', '2小时内出统一口径 (C-4)', 'pr', 9, 0, groups='pr',
      doc='C-4 (003 2: 公关部提供统一解释口径, 2小时内; 000 四: 口径 used by every front-line person).',
      form=[F('unified_explanation', '统一解释口径', 'Unified explanation to give', 'text', req=True, minlength=2, maxlength=4000)])
    a('boundary', 'explanation_due', '2小时未提供口径', 'pr', 9, attach='explanation', interrupting=False,
      timer=('timeDuration', 'PT2H'), doc='C-4 (003 2): 2 hours; reminder, the task stays open.')
    notify(p, 'notify_explanation_overdue', '催办口径 (C-4)', 'pr', 10, 1, 'leadership',
           'c4_explanation_overdue', 'C-4 (003 2).')
    a('end', 'end_explanation_reminder', '已催办', 'pr', 11, 1)
    a('pgw', 'join_remedy', '', 'handler', 12, 0)
    notify(p, 'publish_explanation', '下发统一口径 (C-4)', 'complaint_group', 13, 0, 'intake',
           'c4_unified_explanation', 'C-4 (003 2; 000 四): front line gets the solution and the 口径.')
    a('xgw', 'gw_nationwide', '全国范围?', 'complaint_group', 14, 0,
      doc='C-5 (003 3 服务协同: 对于涉及全国范围的危机投诉事件…通知其他各公司/部门).')
    a('user', 'coordinate_c5', '通知全国协同处理 (C-5)', 'complaint_group', 15, 1, groups='complaint_group',
      doc='C-5 (003 3): other companies / departments are told the situation and the solution.',
      form=[F('coordinated_units', '已通知的公司/部门', 'Companies or departments notified', 'text', req=True, maxlength=2000),
            F('coordination_note', '协同要求', 'Coordination requirements', 'text', maxlength=2000)])
    a('xgw', 'merge_nationwide', '', 'complaint_group', 16, 0)
    a('user', 'assess_tracking', '跟踪评估至事件结束 (C-6)', 'complaint_group', 17, 0, groups='complaint_group',
      doc='C-6 (003 4 跟踪评估: 投诉问题处理结束后,投诉组通过后期客户投诉的变化量评估投诉问题的解决情况; '
          '按领导要求随时汇报): open while the event is tracked; the complaint group completes it with its '
          'assessment when the event is over. The hourly count runs on its own timer, not on this task.',
      form=[F('tracking_note', '变动评估与汇报', 'Assessment of changes and report', 'text', req=True, minlength=2, maxlength=2000)])
    a('boundary', 'hourly_count', '每隔1小时', 'complaint_group', 17, attach='assess_tracking',
      interrupting=False, timer=('timeCycle', 'R/PT1H'),
      doc='C-6 (003 4: 每隔1小时进行问题投诉量的收集): a timer cycle, every hour from the start of tracking '
          'until the event is closed, whether or not anybody works on the tracking task.')
    a('service', 'count_complaints', '统计问题投诉量 (C-6)', 'complaint_group', 18, 1,
      topic='count_issue_complaints',
      doc='C-6 (003 4: 与前1小时对比,记录变动幅度比例): sets count_now, count_previous, change_ratio; '
          'each hourly count is recorded in the audit trail with its figures.')
    a('end', 'end_hourly_count', '已记录', 'complaint_group', 19, 1)
    a('user', 'summary', '提交专题报告 (C-7)', 'complaint_group', 20, 0, groups='complaint_group',
      due='${due_in_working_days(3)}',
      doc='C-7 (003 5 总结上报: 处理结束3个工作日内…专题报告,说明事故原因、处理方案及过程和整改措施).',
      form=[F('incident_cause', '事故原因', 'Cause of the incident', 'text', req=True, maxlength=8000),
            F('handling_summary', '处理方案及过程', 'Handling plan and process', 'text', req=True, maxlength=8000),
            F('rectification', '整改措施', 'Rectification measures', 'text', req=True, maxlength=8000),
            F('responsibility_meeting_needed', '需召开定责分析会', 'A responsibility meeting is needed', 'boolean')])
    a('boundary', 'summary_due', '报告时限届满', 'complaint_group', 20, attach='summary', interrupting=False,
      timer=('timeDate', '${due_in_working_days(3)}'), doc='C-7 (003 5): 3 working days; reminder.')
    notify(p, 'notify_summary_overdue', '催交报告 (C-7)', 'complaint_group', 21, 1, 'leadership',
           'c7_summary_overdue', 'C-7 (003 5).')
    a('end', 'end_summary_reminder', '已催交', 'complaint_group', 22, 1)
    a('xgw', 'gw_meeting', '需定责?', 'complaint_group', 21, 0,
      doc='C-7 (003 2, 5: 根据需要召开定责分析会; responsibility unclear -> settled afterwards).')
    a('user', 'responsibility_meeting', '定责分析会 (C-7)', 'leadership', 22, 0, groups='leadership',
      doc='C-7 (003 2: 待解决后开会分析定责; 003 5).',
      form=[F('responsibility_conclusion', '定责结论', 'Conclusion on responsibility', 'text', req=True, maxlength=4000)])
    a('xgw', 'merge_end_c7', '', 'complaint_group', 23, 0)
    a('end', 'end_crisis', '危机事件结案', 'complaint_group', 24, 0)

    f = p.flow
    p.chain('start_crisis', 'route_crisis', 'gw_warning_level')
    f('gw_warning_level', 'notify_level3', '三级', '${int(warning_level) == 3}')
    f('gw_warning_level', 'merge_warning', '其他', default=True)
    f('notify_level3', 'merge_warning')
    f('merge_warning', 'report', route={'style': 'hv'})
    p.chain('report', 'notify_pr', 'notify_leadership', 'split_remedy')
    p.chain('report_due', 'notify_report_overdue', 'end_report_reminder')
    f('split_remedy', 'solution')
    f('split_remedy', 'explanation')
    p.chain('solution_due', 'notify_solution_overdue', 'end_solution_reminder')
    p.chain('explanation_due', 'notify_explanation_overdue', 'end_explanation_reminder')
    f('solution', 'join_remedy')
    f('explanation', 'join_remedy')
    p.chain('join_remedy', 'publish_explanation', 'gw_nationwide')
    f('gw_nationwide', 'coordinate_c5', '全国范围', '${nationwide}')
    f('gw_nationwide', 'merge_nationwide', '否', default=True)
    f('coordinate_c5', 'merge_nationwide')
    p.chain('merge_nationwide', 'assess_tracking', 'summary')
    p.chain('hourly_count', 'count_complaints', 'end_hourly_count')
    f('summary', 'gw_meeting')
    p.chain('summary_due', 'notify_summary_overdue', 'end_summary_reminder')
    f('gw_meeting', 'responsibility_meeting', '需要', '${responsibility_meeting_needed or not responsibility_clear}')
    f('gw_meeting', 'merge_end_c7', '不需要', default=True)
    f('responsibility_meeting', 'merge_end_c7')
    f('merge_end_c7', 'end_crisis')
    return p
