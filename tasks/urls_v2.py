"""``/api/v2`` routes that touch tasks (SDK-WIRE 4.4, the local-build subset and the CLI
reads). The Modal/reactive routes (notify, wake-candidates, scheduler-lease, stalled-builds,
reactive-meta, tick-summaries, activation, exclusion, stop) are not served yet: they fall through
to the missing-route 404."""

from django.urls import re_path

from builds.urls_v2 import ID
from tasks.v2 import views as v

BUILD = rf"^builds/(?P<build_id>{ID})"
PLAN = rf"^plans/(?P<plan_id>{ID})"
MEMBER = PLAN + r"/members/(?P<task_id>[^/]+)"
TASK = r"^tasks/(?P<task_id>[^/]+)"

urlpatterns = [
    re_path(r"^builds/?$", v.BuildsView.as_view(), name="v2-builds"),
    re_path(rf"{BUILD}/complete/?$", v.BuildCompleteView.as_view(), name="v2-build-complete"),
    re_path(rf"{BUILD}/fail/?$", v.BuildFailView.as_view(), name="v2-build-fail"),
    re_path(rf"{BUILD}/cancel/?$", v.BuildCancelView.as_view(), name="v2-build-cancel"),
    re_path(rf"{BUILD}/exit-early/?$", v.BuildExitEarlyView.as_view(),
            name="v2-build-exit-early"),
    re_path(rf"{BUILD}/resume/?$", v.BuildResumeView.as_view(), name="v2-build-resume"),
    re_path(rf"{BUILD}/plans/?$", v.BuildPlansView.as_view(), name="v2-build-plans"),
    re_path(rf"{BUILD}/skip-blocked/?$", v.BuildSkipBlockedView.as_view(),
            name="v2-build-skip-blocked"),
    re_path(rf"{BUILD}/frontier/?$", v.BuildFrontierView.as_view(), name="v2-build-frontier"),
    re_path(rf"{BUILD}/executions/?$", v.BuildExecutionsView.as_view(),
            name="v2-build-executions"),
    re_path(rf"{PLAN}/?$", v.PlanDetailView.as_view(), name="v2-plan"),
    re_path(rf"{PLAN}/members/?$", v.PlanMembersView.as_view(), name="v2-plan-members"),
    re_path(rf"{PLAN}/seal/?$", v.PlanSealView.as_view(), name="v2-plan-seal"),
    re_path(rf"{PLAN}/roots/?$", v.PlanRootsView.as_view(), name="v2-plan-roots"),
    re_path(rf"{PLAN}/graph/?$", v.PlanGraphView.as_view(), name="v2-plan-graph"),
    re_path(rf"{MEMBER}/start/?$", v.MemberStartView.as_view(), name="v2-member-start"),
    re_path(rf"{MEMBER}/complete/?$", v.MemberCompleteView.as_view(),
            name="v2-member-complete"),
    re_path(rf"{MEMBER}/fail/?$", v.MemberFailView.as_view(), name="v2-member-fail"),
    re_path(rf"{MEMBER}/interrupt/?$", v.MemberInterruptView.as_view(),
            name="v2-member-interrupt"),
    re_path(rf"{MEMBER}/yield/?$", v.MemberYieldView.as_view(), name="v2-member-yield"),
    re_path(rf"{MEMBER}/retry/?$", v.MemberRetryView.as_view(), name="v2-member-retry"),
    re_path(rf"{MEMBER}/skip/?$", v.MemberSkipView.as_view(), name="v2-member-skip"),
    re_path(rf"{MEMBER}/cancel/?$", v.MemberCancelView.as_view(), name="v2-member-cancel"),
    re_path(rf"{MEMBER}/artifacts/?$", v.MemberArtifactsView.as_view(),
            name="v2-member-artifacts"),
    re_path(r"^tasks/?$", v.TaskListView.as_view(), name="v2-tasks"),
    re_path(rf"{TASK}/?$", v.TaskDetailView.as_view(), name="v2-task"),
    re_path(rf"{TASK}/claim/renew/?$", v.ClaimRenewView.as_view(), name="v2-claim-renew"),
    re_path(rf"{TASK}/artifacts/?$", v.TaskArtifactsView.as_view(), name="v2-task-artifacts"),
    re_path(rf"{TASK}/executions/?$", v.TaskExecutionsView.as_view(),
            name="v2-task-executions"),
    re_path(rf"{TASK}/events/?$", v.TaskEventsView.as_view(), name="v2-task-events"),
]
