"""What the API docs say about each operation, in one place, written for the people who call it.

Views keep their docstrings for the people who maintain them ("why" notes, contract
references); ``StardagAutoSchema`` leaves those out of the schema, and the postprocessing hook in
``stardag_site.api.schema`` fills every operation's summary and description from ``OPERATIONS``,
keyed by operationId. A new endpoint gets its line here; ``tests/core/test_openapi_schema.py``
fails for an operation without a summary.
"""

from __future__ import annotations

SDK_CREDENTIALS = (
    "Send an API key (`X-API-Key`), or a workspace access token (`Authorization: Bearer`) plus "
    "`?environment_id=` (UUID or slug of an environment of the token's workspace)."
)
USER_CREDENTIALS = (
    "Accepts a workspace access token or the identity provider's access token; a person seen "
    "for the first time is signed up (with a personal workspace)."
)
WORKSPACE_CREDENTIALS = (
    "Needs a workspace access token of a member of the workspace; a non-member gets 404."
)

# operationId -> (summary, description). Descriptions are Markdown.
OPERATIONS: dict[str, tuple[str, str]] = {
    # --- Auth ---------------------------------------------------------------------------------
    ".well_known_jwks.json_retrieve": (
        "Public keys of this server's access tokens",
        "The JSON Web Key Set that verifies workspace access tokens (RS256). During a key "
        "rotation it lists every key whose tokens are still valid. No credential needed. "
        "Also served at `/.well-known/jwks.json`.",
    ),
    "auth_config_retrieve": (
        "Identity-provider settings for the CLI",
        "The issuer and public client id that `stardag auth login` signs in with. No "
        "credential needed. Also served at `/auth/config`.",
    ),
    "auth_exchange_create": (
        "Exchange an identity-provider token for a workspace access token",
        "Send the identity provider's access token as `Authorization: Bearer` and the "
        "`workspace_id` you want to work in; the answer is a short-lived workspace access "
        "token (`expires_in` seconds). A person seen for the first time is signed up. 403 when "
        "you are not a member of that workspace. Also served at `/auth/exchange`.",
    ),
    # --- User ---------------------------------------------------------------------------------
    "ui_me_retrieve": (
        "You and your workspaces",
        "Your user record and every workspace you are a member of, with your role, oldest "
        "membership first. " + USER_CREDENTIALS + " Also served at `/api/v1/me`.",
    ),
    "ui_me_invites_list": (
        "Invitations waiting for you",
        "Pending invitations addressed to your e-mail address, oldest first. "
        + USER_CREDENTIALS + " Also served at `/api/v1/me/invites`.",
    ),
    # --- Workspaces ---------------------------------------------------------------------------
    "ui_workspaces_list": (
        "List your workspaces",
        "Every workspace you are a member of, with your role. " + USER_CREDENTIALS
        + " Also served without `/ui`.",
    ),
    "ui_workspaces_create": (
        "Create a workspace",
        "Creates a shared workspace with you as its owner and its first environment. Each "
        "person can create a limited number of workspaces. " + USER_CREDENTIALS,
    ),
    "ui_workspaces_retrieve": ("Get a workspace", WORKSPACE_CREDENTIALS),
    "ui_workspaces_partial_update": (
        "Rename or describe a workspace",
        "Changes the name, slug or description; fields left out are unchanged. Needs the admin "
        "role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_destroy": (
        "Delete a workspace",
        "Deletes the workspace with all its environments and everything recorded in them. "
        "Needs the owner role; a personal workspace cannot be deleted. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_target_roots_list": (
        "List the target roots of every environment",
        "The target roots of all environments of the workspace, oldest first; each names its "
        "environment. " + WORKSPACE_CREDENTIALS,
    ),
    # --- Members ------------------------------------------------------------------------------
    "ui_workspaces_members_list": (
        "List members",
        "Everyone in the workspace with their role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_members_partial_update": (
        "Change a member's role",
        "Admins change members and admins; only owners grant or take the owner role, and the "
        "last owner cannot be demoted. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_members_destroy": (
        "Remove a member",
        "Admins remove members, owners remove anyone, and everyone can leave; the last owner "
        "stays. " + WORKSPACE_CREDENTIALS,
    ),
    # --- Invites ------------------------------------------------------------------------------
    "ui_workspaces_invites_list": (
        "List pending invitations",
        "Invitations of this workspace that are still pending. Needs the admin role. "
        + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_invites_create": (
        "Invite someone by e-mail",
        "Invites an e-mail address with a role; the person accepts after signing in. Needs the "
        "admin role (owner to invite owners). " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_invites_destroy": (
        "Cancel an invitation",
        "Cancels a pending invitation. Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_invites_accept_create": (
        "Accept an invitation",
        "Joins the workspace with the invited role. The invitation must be addressed to your "
        "e-mail address. " + USER_CREDENTIALS,
    ),
    "ui_workspaces_invites_decline_create": (
        "Decline an invitation",
        "Declines an invitation addressed to your e-mail address. " + USER_CREDENTIALS,
    ),
    # --- Environments -------------------------------------------------------------------------
    "ui_workspaces_environments_list": (
        "List environments",
        "The environments of the workspace, oldest first. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_create": (
        "Create an environment",
        "Adds an environment (a separate registry: builds, tasks, locks, keys). A workspace has "
        "a limited number of environments. Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_retrieve": ("Get an environment", WORKSPACE_CREDENTIALS),
    "ui_workspaces_environments_partial_update": (
        "Change an environment",
        "Changes the name, slug, description or the cap on concurrently held locks; fields left "
        "out are unchanged. Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_destroy": (
        "Delete an environment",
        "Deletes the environment with everything recorded in it; the last environment of a "
        "workspace stays. Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    # --- API keys -----------------------------------------------------------------------------
    "ui_workspaces_environments_api_keys_list": (
        "List API keys",
        "The environment's active keys (revoked ones too with `include_revoked`) with their "
        "prefixes; never the secrets. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_api_keys_create": (
        "Create an API key",
        "Creates a key for this environment. The full key is in this response only: store it "
        "now. Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_api_keys_destroy": (
        "Revoke an API key",
        "The key stops working at once. Revoking twice is harmless. Needs the admin role. "
        + WORKSPACE_CREDENTIALS,
    ),
    # --- Target roots -------------------------------------------------------------------------
    "ui_workspaces_environments_target_roots_list": (
        "List target roots",
        "Where this environment's task outputs live, by root name. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_target_roots_create": (
        "Add a target root",
        "Names a URI prefix (for example `s3://bucket/outputs/`) under which the SDK writes "
        "task outputs. Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_target_roots_retrieve": (
        "Get a target root", WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_target_roots_partial_update": (
        "Change a target root",
        "Changes the name or URI prefix. Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    "ui_workspaces_environments_target_roots_destroy": (
        "Delete a target root", "Needs the admin role. " + WORKSPACE_CREDENTIALS,
    ),
    "target_roots_list": (
        "Target roots of your environment",
        "The SDK reads these at start to know where task outputs live. " + SDK_CREDENTIALS,
    ),
    # --- Builds -------------------------------------------------------------------------------
    "builds_list": (
        "List builds",
        "Newest first, paginated, with filters by status, name, commit, root task, creation "
        "time and user. " + SDK_CREDENTIALS,
    ),
    "builds_create": (
        "Start a build",
        "Records a new build (with a generated name) in the running state. Every call makes a "
        "new build. " + SDK_CREDENTIALS,
    ),
    "builds_retrieve": ("Get a build", "A build with its current status. " + SDK_CREDENTIALS),
    "builds_partial_update": (
        "Rename or describe a build",
        "Changes the name, description or commit; status changes go through the complete, fail, "
        "cancel and exit-early operations. " + SDK_CREDENTIALS,
    ),
    "builds_complete_create": (
        "Mark a build completed", "Records that the build finished. " + SDK_CREDENTIALS,
    ),
    "builds_fail_create": (
        "Mark a build failed",
        "Records that the build failed, with an optional `error_message`. " + SDK_CREDENTIALS,
    ),
    "builds_cancel_create": (
        "Cancel a build",
        "Records that the build was cancelled. With `cascade=true` its running and suspended "
        "tasks are cancelled too, and the answer lists them (`cascaded_task_ids`). "
        + SDK_CREDENTIALS,
    ),
    "builds_bulk_cancel_create": (
        "Cancel many running builds",
        "Cancels the running builds named in `build_ids` and/or idle (no event) for at least "
        "`idle_for_seconds`, oldest activity first, up to `limit`; `cascade` cancels their "
        "running tasks too and `dry_run` only lists what would be cancelled. Builds that are "
        "not running or unknown are listed under `skipped`. " + SDK_CREDENTIALS,
    ),
    "builds_resume_create": (
        "Resume a build",
        "Records that the build was resumed: a finished or failed build is running again until "
        "its next outcome, and is marked resumed. `scope_key`, `build_config` and "
        "`executor_metadata` (JSON) are stored; a `build_config` different from the one the "
        "build started with is refused with 409 `scope_mismatch`. " + SDK_CREDENTIALS,
    ),
    "builds_scope_update": (
        "Set the structure scope of a build",
        "Moves the build to `scope_key`. A build keeps one `build_config` for life: a different "
        "one is refused with 409 `scope_mismatch`. " + SDK_CREDENTIALS,
    ),
    "builds_roots_create": (
        "Add root tasks to a build",
        "Appends the task ids not yet among the build's roots, in order. " + SDK_CREDENTIALS,
    ),
    "builds_skip_blocked_create": (
        "Skip the tasks a failure blocks",
        "Marks skipped every pending or suspended task of the build whose upstream (static or "
        "dynamic, transitively) failed, was cancelled or was skipped, and lists them. "
        + SDK_CREDENTIALS,
    ),
    "builds_frontier_retrieve": (
        "What can run next in a build",
        "The latest state of the build's tasks: counts per status, the roots, the running tasks, "
        "and the tasks whose upstreams have all completed. " + SDK_CREDENTIALS,
    ),
    "builds_exit_early_create": (
        "Mark a build as exited early",
        "Records that the build stopped because every remaining task waits for a lock held by "
        "another build; `reason` is kept with the event. " + SDK_CREDENTIALS,
    ),
    "builds_events_list": (
        "Event log of a build", "Every event of the build, oldest first. " + SDK_CREDENTIALS,
    ),
    "builds_graph_retrieve": (
        "Task graph of a build",
        "The build's tasks as nodes (with status and asset count) and their dependencies as "
        "edges. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_list": (
        "Tasks of a build",
        "Every task with an event in this build, with its status, oldest first. "
        + SDK_CREDENTIALS,
    ),
    "builds_tasks_create": (
        "Register a task in a build",
        "Records the task (or references it when it already exists in the environment) and its "
        "dependencies on already registered tasks. Safe to repeat. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_assets_create": (
        "Attach assets to a task",
        "Adds or replaces the task's assets (markdown reports, JSON), matched by type and name. "
        "Also served as `.../artifacts`, the name newer SDK releases use. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_artifacts_create": (
        "Attach artifacts to a task",
        "The same operation as attaching assets, under the name SDK releases 0.2 and later use. "
        + SDK_CREDENTIALS,
    ),
    "builds_tasks_bulk_create": (
        "Register many tasks in a build",
        "Registers up to 1,000 tasks, dependencies first, in one transaction, exactly as one "
        "registration each would; answers each task's latest status and executor. More than "
        "1,000 tasks is a 400. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_dependencies_create": (
        "Record dependencies found at run time",
        "Adds edges from `upstream_task_ids` (registered tasks of the environment) to the task, "
        "flagged dynamic in the build graph; existing edges are kept. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_skip_create": (
        "Mark a task skipped",
        "Records that the task was skipped in this build (an upstream failed). " + SDK_CREDENTIALS,
    ),
    "builds_tasks_retry_create": (
        "Retry a task",
        "Puts a failed, cancelled or skipped task back to pending; other tasks are left alone "
        "(`retried` says which happened). " + SDK_CREDENTIALS,
    ),
    "builds_tasks_start_create": (
        "Mark a task started", "Records that the task started in this build. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_complete_create": (
        "Mark a task completed",
        "Records that the task completed in this build. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_fail_create": (
        "Mark a task failed",
        "Records that the task failed in this build, with an optional `error_message`. "
        + SDK_CREDENTIALS,
    ),
    "builds_tasks_suspend_create": (
        "Mark a task suspended", "Records that the task was suspended. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_resume_create": (
        "Mark a task resumed", "Records that the task resumed. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_cancel_create": (
        "Mark a task cancelled", "Records that the task was cancelled. " + SDK_CREDENTIALS,
    ),
    "builds_tasks_waiting_for_lock_create": (
        "Mark a task waiting for its lock",
        "Records that this build waits for the task's lock, held by `lock_owner`. "
        + SDK_CREDENTIALS,
    ),
    # --- Tasks --------------------------------------------------------------------------------
    "tasks_list": (
        "List tasks",
        "Newest first, paginated, filtered by exact name and namespace. " + SDK_CREDENTIALS,
    ),
    "tasks_create": (
        "Register a task outside a build",
        "Records the task and its dependencies without a build event. Safe to repeat. "
        + SDK_CREDENTIALS,
    ),
    "tasks_retrieve": ("Get a task", "A task by its SDK task id. " + SDK_CREDENTIALS),
    "tasks_artifacts_retrieve": (
        "Artifacts of a task",
        "The task's assets under the name newer SDK releases use, oldest first. "
        + SDK_CREDENTIALS,
    ),
    "tasks_assets_retrieve": (
        "Assets of a task", "The task's assets, oldest first. " + SDK_CREDENTIALS,
    ),
    "tasks_events_list": (
        "Event log of a task",
        "Every event of the task across all builds, newest first. " + SDK_CREDENTIALS,
    ),
    "tasks_metadata_retrieve": (
        "Task metadata for the SDK",
        "The task's parameters, version, output location and status, as `AliasTask` reads "
        "them. " + SDK_CREDENTIALS,
    ),
    "tasks_search": (
        "Search tasks",
        "Filter with the `filter` expression language (`task_name = \"Train\" AND param.lr > "
        "0.1`), free text `q`, `sort`, and asset values with `include_assets`. "
        + SDK_CREDENTIALS,
    ),
    "tasks_search_keys": (
        "Suggest search keys",
        "Keys to filter on (core fields, `param.*`, `asset.*`) starting with `prefix`, most "
        "frequent first. " + SDK_CREDENTIALS,
    ),
    "tasks_search_values": (
        "Suggest values for a search key",
        "Values seen for `key`, most frequent first. " + SDK_CREDENTIALS,
    ),
    "tasks_search_columns": (
        "Columns for search results",
        "Core columns plus the most frequent `param.*` and `asset.*` keys. " + SDK_CREDENTIALS,
    ),
    # --- Concurrency limits -------------------------------------------------------------------
    "concurrency_limits_retrieve": (
        "List concurrency limits",
        "The environment's named concurrency limits, by key. They are recorded for the SDK's "
        "CLI; this server does not enforce them. " + SDK_CREDENTIALS,
    ),
    "concurrency_limits_update": (
        "Set a concurrency limit",
        "Creates or replaces the limit `key` with `max_concurrent` (at least 1). "
        + SDK_CREDENTIALS,
    ),
    "concurrency_limits_destroy": (
        "Delete a concurrency limit", "Removes the limit `key`; 404 if there is none. "
        + SDK_CREDENTIALS,
    ),
    "concurrency_limits_holders_retrieve": (
        "Tasks holding a concurrency limit",
        "Always empty here: limits are not enforced, so no task holds a slot. "
        + SDK_CREDENTIALS,
    ),
    # --- Locks --------------------------------------------------------------------------------
    "lock_list": (
        "List locks",
        "Held locks of your environment (expired ones too with `include_expired`), newest "
        "first. " + SDK_CREDENTIALS,
    ),
    "lock_get": ("Get a lock", "A held or expired lock by name. " + SDK_CREDENTIALS),
    "lock_acquire": (
        "Acquire a lock",
        "Takes the named lock for `owner_id` for `ttl_seconds`. 423 when another owner holds "
        "it, 429 when the environment's cap on held locks is reached, and "
        "`already_completed` when the task it guards has completed. " + SDK_CREDENTIALS,
    ),
    "lock_renew": (
        "Renew a lock",
        "Extends the lock you hold by `ttl_seconds`; 409 when you no longer hold it. "
        + SDK_CREDENTIALS,
    ),
    "lock_release": (
        "Release a lock",
        "Frees the lock you hold; with `task_completed` it also records the task's completion "
        "in `build_id`. 409 when you do not hold it. " + SDK_CREDENTIALS,
    ),
    "lock_task_completion_status": (
        "Has a task completed?",
        "True when the task completed in any build of your environment. " + SDK_CREDENTIALS,
    ),
}

API_DESCRIPTION = """\
Self-hosted Stardag registry: builds, tasks, events, assets, task search, locks, workspaces,
environments and API keys.

**Credentials.** SDK routes (builds, tasks, search, locks, `GET /api/v1/target-roots`) take an
API key in `X-API-Key`, or a workspace access token as `Authorization: Bearer` plus
`?environment_id=`. Workspace routes (`/api/v1/ui/...`) take a workspace access token (some also
the identity provider's token, as each says). Get a workspace access token from
`POST /api/v1/auth/exchange`.

**Aliases.** Each route is listed once. The same routes are also served at other spellings:
`/api/v1/workspaces/...`, `/api/v1/me` and `/api/v1/me/invites` without `/ui`; `/auth/config`,
`/auth/exchange` and `/.well-known/jwks.json` at the root.
"""
