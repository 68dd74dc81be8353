"""service_quality.bpmn: call-centre service-quality complaint 二解 Q-1..Q-3, 001 第七章."""

from ..model import F, Process


def _build():
    p = Process(
        'service_quality', '服务质量投诉二解流程',
        'Second explanation (二解) of a service-quality complaint against one call-centre agent, SPEC §7 '
        '(Q-1..Q-3, S-8); 001 第七章 服务质量投诉处理规范 3.2, 3.3, 6.1-6.3. Called from `normal` (Q-1). '
        'Result in sq_result: exempted (no deduction), withdrawn (withdrawn but the team is over 8 this month: '
        'scored), failed (normal process continues).',
        [('complaint_group', '投诉管理组(综援)', 3, 'group complaint_group: 001 3.3 综援员'),
         ('team_leader', '话务班长', 3, 'group team_leader: 001 3.2 话务班长 / 代理组长 / B角 (6.1.2)', 40)],
        colw={4: 120})
    a = p.add

    a('start', 'start_sq', '服务质量投诉', 'complaint_group', 0, 1,
      doc='Q-1 (001 6.1.1): one agent, not VIP / 专业户, not two or more agents; checked in normal.bpmn.')
    a('script', 'init', '初始化二解记录', 'complaint_group', 1, 1,
      script="sq_result = 'failed'\nsq_attempts = 0",
      doc='Q-3 (001 6.2): the result stays failed unless the call-back succeeds.')
    a('service', 'register_team_complaint', '登记班组被投诉次数 (Q-3)', 'complaint_group', 2, 1,
      topic='count_team_complaints',
      doc='Q-3, S-8 (001 6.2.1(3): 本组员工被投诉次数, 含不通知回访或回访不接受的): the complaint against '
          'complained_agent is counted for the agent\'s team and month when it reaches 二解, whatever its result.')
    a('service', 'notify_team_leader', '通知话务班长二解 (Q-2)', 'complaint_group', 3, 1, topic='notify',
      params=[('to', '${sq_team_leader}'), ('template', 'q2_second_explanation')],
      doc='Q-2 (001 3.3: 便笺通知被投诉话务员及归属组长,同时短信通知归属组长): the agent\'s own team leader.')
    a('sub', 'second_explanation', '二解回访 (Q-2)', 'team_leader', 4, 0, anchor_row=0,
      doc='Q-2 (001 3.2, 6.1.3, 6.3): the team leader calls the customer back before 17:00 of the next day; '
          'at most 3 attempts, each at least 3 hours after the previous one.')
    s = dict(parent='second_explanation')
    a('start', 'se_start', '开始回访', 'team_leader', 4, 0, **s)
    a('xgw', 'merge_attempt', '', 'team_leader', 5, 0, **s)
    a('user', 'call_back', '回访并填中途意见 (Q-2)', 'team_leader', 6, 0, users='${sq_team_leader}', **s,
      doc='Q-1, Q-2 (001 3.2: 话务班长作为服务质量投诉工作责任人, 负责对本组员工服务质量投诉…进行二解): offered to '
          'the complained agent\'s own team leader (sq_team_leader) only; another team\'s leader cannot take it. '
          'Q-2 (001 6.1.4 中途意见模板: 经听()流水号录音,话务员(…),客户投诉情况(属实/不存在),经联系客户解释,'
          '客户(接受/不接受),回访流水号***; 6.3: 用10086回访, 客户不接受不再纠缠).',
      form=[F('recording_serial', '经听录音流水号', 'Serial number of the recording listened to', req=True, maxlength=50),
            F('agent_conduct', '话务员当时的服务情况或存在的问题', "The agent's service at the time, or its problems", 'text', req=True, maxlength=2000),
            F('complaint_verified', '客户投诉情况', 'The complaint is', 'enum', req=True, values=[
                ('founded', '属实', 'Founded'), ('unfounded', '不存在', 'Unfounded')]),
            F('callback_result', '回访结果', 'Result of the call-back', 'enum', req=True, values=[
                ('accepted', '客户接受,同意撤销投诉', 'Customer accepts and withdraws the complaint'),
                ('refused', '客户不接受', 'Customer does not accept'),
                ('not_reached', '未联系上客户', 'Customer not reached')]),
            F('callback_serial', '回访流水号', 'Serial number of the call-back', maxlength=50),
            F('midway_note', '中途意见', 'Interim opinion', 'text', req=True, maxlength=2000)])
    a('script', 'count_attempt', '累计回访次数', 'team_leader', 7, 0, script='sq_attempts = sq_attempts + 1', **s,
      doc='Q-2 (001 6.3.4: 错开时间回复三次为限).')
    a('xgw', 'gw_retry', '再次回访?', 'team_leader', 8, 0, **s,
      doc='Q-2 (001 6.3.4): not reached -> try again >= 3 h later, at most 3 attempts.')
    a('timer', 'wait_3h', '间隔3小时', 'team_leader', 7, 1, timer=('timeDuration', 'PT3H'), **s,
      doc='Q-2 (001 6.3.4: 每次错开的时间在3小时以上).')
    a('end', 'se_end', '回访结束', 'team_leader', 9, 0, **s)
    a('boundary', 'deadline', '次日17:00未完成', 'team_leader', 4, attach='second_explanation', at_col=5,
      timer=('timeDate', '${next_day_at("17:00")}'),
      doc='Q-2 (001 3.2, 6.1.3: 第二天17:00前; 6.2.4(3): 未在规定时限内回访及添加中途意见 -> 按"未按规范执行"考核回访人员): '
          'interrupting; the complaint falls back to normal handling.')
    a('service', 'record_late', '记录二解超时 (Q-2)', 'team_leader', 6, 2, topic='record_overdue',
      params=[('rule_id', 'Q-2')], doc='Q-2 (001 6.2.4(3)): timeliness record against the team leader.')
    a('end', 'end_late', '超时,转正常流程', 'team_leader', 7, 2,
      doc='Q-3 (001 6.3.4): 由综援员按正常投诉流程跟进 (sq_result stays failed).')
    a('xgw', 'gw_withdrawn', '客户撤销?', 'team_leader', 10, 0, doc='Q-3 (001 3.3, 6.2.1(1)).')
    a('end', 'end_not_withdrawn', '二解不成功', 'team_leader', 11, 0,
      doc='Q-3 (001 3.3: 话务班长安抚不成功的服务质量投诉按正常投诉流程处理).')
    a('user', 'review_recording', '复核回访录音 (Q-3)', 'complaint_group', 11, 1, groups='complaint_group',
      doc='Q-3, S-8 (001 3.3: 复核其安抚成功的回访录音; 6.1.1(4): 组长添加中途意见前客户催办则不执行二解; '
          '6.2.3: 非投诉客户本人接听按正常投诉评定).',
      form=[F('recording_confirmed', '录音属实(投诉客户本人同意撤销)', 'Recording confirmed (the complainant agrees to withdraw)', 'boolean'),
            F('customer_chased', '组长添加中途意见前客户已催办', 'Customer chased before the team leader added the interim opinion', 'boolean')])
    a('service', 'rank_team_complaint', '本组本月第几次被投诉 (Q-3)', 'complaint_group', 12, 1,
      topic='count_team_complaints',
      doc='Q-3, S-8 (001 6.2.1(3): 本组员工被投诉次数没有超过8次…超过的则从第9次的被投诉的人员开始按当前质检标准评定考核): '
          'the complaint\'s rank among its team\'s complaints of the month; sq_exemption_possible while it is '
          'within the limit of data/deductions.toml ([exemption] team_monthly_limit = 8).')
    a('xgw', 'gw_exempt', '豁免考核?', 'complaint_group', 13, 1, label='tl', doc='Q-3, S-8 (001 6.2.1).')
    a('script', 'set_exempted', '撤销投诉,豁免 (Q-3)', 'complaint_group', 14, 1, script="sq_result = 'exempted'",
      doc='Q-3 (001 3.3: 工单节点改为"无效工单—安抚成功撤消服务质量投诉",撤消对话务员的考核).')
    a('end', 'end_exempted', '豁免考核', 'complaint_group', 15, 1)
    a('script', 'set_withdrawn', '撤销投诉,不豁免 (S-8)', 'complaint_group', 14, 0,
      script="sq_result = 'withdrawn'",
      doc='S-8 (001 6.2.1(3): 超过的则从第9次的被投诉的人员开始按当前质检标准评定考核).')
    a('service', 'book_agent', '按质检标准考核话务员 (Q-3)', 'complaint_group', 15, 0, topic='book_deductions',
      params=[('rule_id', 'Q-3')],
      doc='Q-3, S-8 (《服务质量投诉处理规范》6.2.1(3) 超过的则从第9次的被投诉的人员开始按当前质检标准评定考核; 6.2.2): '
          'scored under the call centre\'s QA standard (质检标准, schedule rule Q-3), not under S-1.')
    a('end', 'end_scored', '撤销,按质检考核', 'complaint_group', 16, 0)
    a('end', 'end_review_failed', '复核不通过', 'complaint_group', 14, 2,
      doc='Q-3 (001 6.2.3): not the customer in person / chased -> normal process (sq_result failed).')

    f = p.flow
    p.chain('start_sq', 'init', 'register_team_complaint', 'notify_team_leader')
    p.chain('se_start', 'merge_attempt', 'call_back', 'count_attempt', 'gw_retry')
    f('gw_retry', 'wait_3h', '3小时后再拨', "${callback_result == 'not_reached' and sq_attempts < 3}",
      route={'out': 'b', 'in': 'r', 'pts': [(None, ('y', 'team_leader', 1))]})
    f('gw_retry', 'se_end', '结束', default=True)
    f('wait_3h', 'merge_attempt', route={'out': 'l', 'in': 'b', 'pts': [(('x', 5), None)]})
    f('deadline', 'record_late')
    f('second_explanation', 'gw_withdrawn')
    f('gw_withdrawn', 'review_recording', '已撤销', "${callback_result == 'accepted'}")
    f('gw_withdrawn', 'end_not_withdrawn', '未撤销', default=True)
    p.chain('review_recording', 'rank_team_complaint', 'gw_exempt')
    f('gw_exempt', 'set_exempted', '豁免',
      '${recording_confirmed and not customer_chased and sq_exemption_possible}')
    f('gw_exempt', 'set_withdrawn', '超8次',
      '${recording_confirmed and not customer_chased and not sq_exemption_possible}')
    f('gw_exempt', 'end_review_failed', '不通过', default=True)
    p.chain('set_exempted', 'end_exempted')
    p.chain('set_withdrawn', 'book_agent', 'end_scored')
    return p


def build():
    p = _build()
    p.shift(4)
    p.nodes['end_late'].col += 1
    p.add('service', 'book_late', '未按规范执行考核 (Q-2)', 'team_leader', p.nodes['record_late'].col + 1, 2,
          topic='book_deductions', params=[('rule_id', 'Q-2')],
          doc='Q-2 (《服务质量投诉处理规范》6.2.4(3) 回访人员未在规定时限内(即接到通知第二天17:00前)回访客户及添加中途意见: '
              '直接按"未按规范执行"考核回访人员): the team leader is scored (schedule rule Q-2).')
    p.chain('record_late', 'book_late', 'end_late')
    p.add('service', 'notify_agent', '通知被投诉话务员 (Q-2)', 'complaint_group', 4, 1, topic='notify',
          params=[('to', '${complained_agent}'), ('template', 'q2_agent_complained')],
          doc='Q-2 (001 3.3: 接获客户投诉时需便笺通知被投诉话务员及归属组长): the agent is told of the complaint.')
    p.flow('notify_team_leader', 'notify_agent')
    p.flow('notify_agent', 'second_explanation', route={'style': 'h', 'x': ('x', 4, 80)})
    return p
