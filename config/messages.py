"""The one message catalog: every user-facing sentence, in Simplified Chinese and English.

Code never writes user-facing literals; it calls ``t("key", **args)``. Chinese is the default
because the readers are archive staff; ``language: en`` in the config switches to English.
"""

from __future__ import annotations

_language = "zh"

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # --- general / CLI --------------------------------------------------------------------
    "cli.description": {
        "zh": "dangan：学校档案室的电子档案守护服务（检查归档规则、实时镜像、异地备份、固定性校验）。",
        "en": "dangan: keeps a school archive office's electronic records safe and in order.",
    },
    "cli.usage_prefix": {"zh": "用法：", "en": "usage: "},
    "cli.positionals": {"zh": "参数", "en": "arguments"},
    "cli.options": {"zh": "选项", "en": "options"},
    "cli.commands": {"zh": "子命令", "en": "commands"},
    "cli.help": {"zh": "显示本帮助并退出", "en": "show this help and exit"},
    "cli.version": {"zh": "显示版本并退出", "en": "show the version and exit"},
    "cli.config": {
        "zh": "配置文件路径（默认：$DANGAN_CONFIG，否则 /etc/dangan/config.yaml）",
        "en": "config file (default: $DANGAN_CONFIG, else /etc/dangan/config.yaml)",
    },
    "cli.init.help": {
        "zh": "生成带注释的配置文件，建立档案、镜像和状态目录及其标记文件",
        "en": "write a commented config and create the folders and their marker files",
    },
    "cli.init.archive_root": {"zh": "档案主目录（处室文件夹所在）", "en": "archive root (department folders)"},
    "cli.init.mirror_root": {"zh": "第二块硬盘上的镜像目录", "en": "mirror folder on the second disk"},
    "cli.init.state_dir": {"zh": "dangan 的状态目录（目录库等）", "en": "dangan's state folder (catalog …)"},
    "cli.init.offsite_remote": {
        "zh": "异地备份的 rclone 远端，或本机文件夹（默认：状态目录下的 offsite）",
        "en": "off-site rclone remote, or a local folder (default: offsite/ in the state folder)",
    },
    "cli.init.force": {"zh": "覆盖已有的配置文件", "en": "overwrite an existing config file"},
    "cli.init.adopt": {
        "zh": "接管恢复到新硬盘上的档案：与目录库相同的文件不再重新复制（配置文件已存在时只需 --config）",
        "en": "take over an archive restored onto a new disk without re-copying identical files",
    },
    "cli.check.help": {
        "zh": "按归档规则检查档案文件，按处室列出问题和改正方法",
        "en": "check the records against the filing rules, listed per department",
    },
    "cli.check.format": {"zh": "输出格式：text（默认）或 json", "en": "output format: text (default) or json"},
    "cli.check.paths": {
        "zh": "只检查这些文件或文件夹（须在档案主目录内；默认检查全部）",
        "en": "check only these files or folders (inside the archive root; default: all)",
    },
    "cli.rules.help": {"zh": "列出全部归档规则", "en": "list every filing rule"},
    "cli.backup.help": {
        "zh": "异地备份：把镜像盘上的新内容加密传送到合作单位，附清单；或验证对方持有的副本",
        "en": "off-site copy: ship new content, encrypted, with its inventory to the partner; or verify it",
    },
    "cli.backup.full": {"zh": "全量：重新核对并补传全部内容", "en": "full pass: re-check and re-ship everything"},
    "cli.backup.snapshot": {"zh": "年度报送快照：清单另存并标记为报送", "en": "yearly submission snapshot"},
    "cli.backup.verify": {
        "zh": "验证合作单位的副本与最近的清单一致（cryptcheck 或抽样下载）",
        "en": "verify the partner's copy against the latest inventory (cryptcheck or a downloaded sample)",
    },
    "cli.restore.help": {
        "zh": "从镜像盘或合作单位恢复档案（可恢复到任一时刻），逐个文件核验哈希",
        "en": "restore the archive from the mirror or the partner (as of any moment), every file verified",
    },
    "cli.restore.from": {"zh": "从哪里恢复：mirror（镜像盘）、offsite（合作单位）或 media（脱机备份，用 --set 指明）", "en": "restore from: mirror, offsite or media (offline sets, named with --set)"},
    "cli.restore.to": {"zh": "恢复到这个文件夹", "en": "restore into this folder"},
    "cli.restore.at": {
        "zh": "恢复到这一时刻的状态（ISO 8601，如 2026-10-01T08:00；不写时区则按配置的时区）；--from media 时也可写脱机备份所在的文件夹或光盘映像",
        "en": "restore the state as of this moment (ISO 8601; without an offset, in the config's time zone); with --from media it may also name a set's folder or disc image",
    },
    "cli.restore.only": {"zh": "只恢复这些文件或文件夹（档案内的相对路径）", "en": "restore only these files or folders (archive-relative)"},
    "cli.restore.dry_run": {"zh": "只列出将恢复多少内容，不写入", "en": "only show what would be restored"},
    "cli.restore.overwrite": {"zh": "允许覆盖目标文件夹中已有的不同文件", "en": "allow overwriting different files in the target"},
    "cli.drill.help": {
        "zh": "恢复演练：从每份副本抽样恢复到临时目录，核验、计时后删除，并推算完整恢复所需时间",
        "en": "restore drill: restore a sample from each copy into scratch, verify, time it, project a full restore",
    },
    "cli.run.help": {
        "zh": "以服务方式运行：实时监视档案目录，检查规则，镜像到第二块硬盘（systemd 用）",
        "en": "run the service: watch the archive, check the rules, mirror to the second disk (for systemd)",
    },
    "cli.mirror.help": {
        "zh": "在前台做一次完整核对并补齐镜像，然后退出（服务启动时做的事）",
        "en": "run one full reconcile of archive, catalog and mirror in the foreground, then exit",
    },
    "cli.mirror.confirm": {
        "zh": "确认并执行被暂停的大批删除（删除的文件移入镜像的旧版本区，不会丢失）",
        "en": "confirm held mass deletions (the mirror's copies move to its versions area, nothing is lost)",
    },
    "cli.status.help": {
        "zh": "显示服务状态：队列、上次核对、镜像滞后、暂停的删除、未改正的问题",
        "en": "show the service state: queue, last reconcile, mirror lag, held deletions, open violations",
    },
    "error.usage": {"zh": "用法错误：{detail}", "en": "usage error: {detail}"},
    "error.interrupted": {"zh": "已中断。", "en": "interrupted."},
    "error.internal": {
        "zh": "内部错误：{detail}。请把这条信息和日志交给系统管理员。",
        "en": "internal error: {detail}. Please pass this message and the log to the administrator.",
    },
    # --- config -----------------------------------------------------------------------------
    "config.not_found": {
        "zh": "找不到配置文件 {path}。请先运行 `dangan init`，或用 --config 指定配置文件。",
        "en": "config file {path} not found. Run `dangan init` first, or pass --config.",
    },
    "config.unreadable": {
        "zh": "无法读取配置文件 {path}：{detail}",
        "en": "cannot read config file {path}: {detail}",
    },
    "config.header": {
        "zh": "配置文件 {path} 有 {count} 处错误：",
        "en": "config file {path} has {count} problem(s):",
    },
    "config.footer": {
        "zh": "请改正以上各处后重试（各配置项的说明见 config/default.yaml）。",
        "en": "Fix the above and retry (every key is documented in config/default.yaml).",
    },
    "config.problem": {"zh": "{where}：{reason}", "en": "{where}: {reason}"},
    "config.line": {"zh": "第 {line} 行", "en": "line {line}"},
    "config.yaml_syntax": {
        "zh": "YAML 语法错误（第 {line} 行第 {column} 列）：{problem}",
        "en": "YAML syntax error (line {line}, column {column}): {problem}",
    },
    "config.not_mapping": {
        "zh": "配置文件的顶层必须是“键: 值”的映射",
        "en": "the top level of the config must be a mapping of keys to values",
    },
    "config.duplicate_key": {
        "zh": "这个键写了两次，前一处会被悄悄忽略；请合并为一处",
        "en": "this key appears twice and the earlier one would be silently ignored; merge them",
    },
    "config.unknown_key": {"zh": "未知的配置项", "en": "unknown key"},
    "config.did_you_mean": {"zh": "，您是否想写 “{key}”？", "en": "; did you mean '{key}'?"},
    "config.missing": {"zh": "缺少必填项", "en": "required key is missing"},
    "config.bad_value": {"zh": "值 {value} 无效：{reason}", "en": "value {value} is invalid: {reason}"},
    "config.want_int": {"zh": "应为整数", "en": "must be an integer"},
    "config.want_number": {"zh": "应为数字", "en": "must be a number"},
    "config.want_gt": {"zh": "应大于 {limit}", "en": "must be greater than {limit}"},
    "config.want_str": {"zh": "应为文本", "en": "must be text"},
    "config.want_bool": {"zh": "应为 true 或 false", "en": "must be true or false"},
    "config.want_list": {"zh": "应为列表", "en": "must be a list"},
    "config.want_mapping": {"zh": "应为“键: 值”的映射", "en": "must be a mapping"},
    "config.want_one_of": {"zh": "应为以下之一：{choices}", "en": "must be one of: {choices}"},
    "config.want_ge": {"zh": "应不小于 {limit}", "en": "must be at least {limit}"},
    "config.want_le": {"zh": "应不大于 {limit}", "en": "must be at most {limit}"},
    "config.want_absolute": {"zh": "须为绝对路径（以 / 开头）", "en": "must be an absolute path"},
    "config.shell_chars": {
        "zh": "含有 shell 特殊字符 {chars}，出于安全原因不允许（这个值会传给 rclone）",
        "en": "contains shell metacharacters {chars}, refused for safety (the value reaches rclone)",
    },
    "config.bad_timezone": {"zh": "不是已知的时区名称（例如 Asia/Shanghai）", "en": "not a known time zone (e.g. Asia/Shanghai)"},
    "config.bad_hash": {
        "zh": "本机的 Python/OpenSSL 不支持这个哈希算法",
        "en": "this machine's Python/OpenSSL does not provide this hash algorithm",
    },
    "config.bad_clock": {"zh": "应为“时:分”，如 02:00", "en": "must be HH:MM, e.g. 02:00"},
    "config.bad_month_day": {"zh": "应为“月-日”，如 12-31", "en": "must be MM-DD, e.g. 12-31"},
    "config.bad_bwlimit": {
        "zh": "应为 rclone 的带宽时间表，如 \"08:00,512k 18:00,off\"",
        "en": "must be an rclone bandwidth timetable, e.g. \"08:00,512k 18:00,off\"",
    },
    "config.not_loopback": {
        "zh": "只能监听本机回环地址，如 127.0.0.1:9877",
        "en": "only a loopback address may be used, e.g. 127.0.0.1:9877",
    },
    "config.unknown_rule": {"zh": "不是已知的规则编号{suggestion}", "en": "not a known rule id{suggestion}"},
    "config.nested_roots": {
        "zh": "{a} 与 {b} 不能相同，也不能一个套在另一个里面",
        "en": "{a} and {b} must differ and must not contain one another",
    },
    "config.duplicate_item": {"zh": "重复的条目 {item}", "en": "duplicate entry {item}"},
    "config.empty_item": {"zh": "条目不能为空", "en": "entries must not be empty"},
    "config.bad_extension": {
        "zh": "扩展名应为小写、不带点，例如 pdf",
        "en": "extensions are lower case without a dot, e.g. pdf",
    },
    # --- init -------------------------------------------------------------------------------
    "init.exists": {
        "zh": "配置文件 {path} 已存在，未覆盖。如确需重写，请加 --force。",
        "en": "config file {path} exists and was not overwritten; add --force to replace it.",
    },
    "init.missing": {"zh": "缺少必需的参数：{flags}", "en": "missing required arguments: {flags}"},
    "init.adopted": {
        "zh": "已接管档案：{files} 个文件，其中 {identical} 个与记录相同（不再复制），{different} 个将由服务复制到镜像。{catalog}下一步：启动服务（systemctl start dangan 或 dangan run）。",
        "en": "adopted: {files} files, {identical} identical to the catalog (not copied again), {different} to be mirrored by the service. {catalog}Next: start the service.",
    },
    "init.catalog_from_mirror": {"zh": "目录库取自镜像盘上的副本。", "en": "The catalog came from its copy on the mirror. "},
    "init.not_empty_mirror": {
        "zh": "镜像目录 {path} 不是空的，也没有 dangan 的标记文件；为防止写错硬盘，已停止。请确认路径，或先清空该目录。",
        "en": "mirror folder {path} is not empty and carries no dangan marker; stopped so as not to write to the wrong disk.",
    },
    "init.cannot_create": {
        "zh": "无法建立 {path}：{detail}",
        "en": "cannot create {path}: {detail}",
    },
    "init.done": {
        "zh": "已写入配置文件 {config}\n  档案主目录：{archive}\n  镜像目录：  {mirror}\n  状态目录：  {state}\n  异地备份：  {offsite}\n下一步：dangan check --config {config}",
        "en": "wrote config {config}\n  archive root: {archive}\n  mirror root:  {mirror}\n  state folder: {state}\n  off-site:     {offsite}\nnext: dangan check --config {config}",
    },
    # --- archive / catalog ------------------------------------------------------------------
    "archive.no_marker": {
        "zh": "档案主目录 {path} 缺少标记文件 {marker}：硬盘可能没有挂载，或目录不对。请检查挂载后重试（新建的档案目录请先运行 dangan init）。",
        "en": "archive root {path} has no marker file {marker}: the disk may not be mounted. Check the mount and retry (run dangan init for a new archive).",
    },
    "archive.outside": {
        "zh": "{path} 不在档案主目录 {root} 之内，无法检查。",
        "en": "{path} is not inside the archive root {root}.",
    },
    "archive.missing_path": {"zh": "找不到 {path}。", "en": "{path} does not exist."},
    "catalog.newer_schema": {
        "zh": "目录库 {path} 的版本（{found}）比本程序支持的（{known}）新，请升级 dangan。",
        "en": "catalog {path} has schema version {found}, newer than this dangan supports ({known}); upgrade dangan.",
    },
    "catalog.unusable": {
        "zh": "无法打开目录库 {path}：{detail}",
        "en": "cannot open the catalog {path}: {detail}",
    },
    # --- mirror / service ---------------------------------------------------------------------
    "mirror.no_marker": {
        "zh": "镜像目录 {path} 缺少标记文件 {marker}：第二块硬盘可能没有挂载。未写入任何内容，待硬盘挂载后自动补齐。",
        "en": "mirror folder {path} has no marker {marker}: the second disk may not be mounted. Nothing was written; dangan catches up once it is back.",
    },
    "mirror.service_running": {
        "zh": "dangan 服务正在运行，它会自动核对和补齐镜像；无需手动运行 dangan mirror。",
        "en": "the dangan service is running and reconciles by itself; dangan mirror is not needed.",
    },
    "mirror.confirm_requested": {
        "zh": "已通知正在运行的服务执行被暂停的删除；用 dangan status 查看结果。",
        "en": "asked the running service to apply the held deletions; see dangan status.",
    },
    "mirror.done": {
        "zh": "核对完成：{files} 个文件，新增或修改 {arrived}，删除 {gone}，移动 {moved}，镜像上执行删除 {applied}，用时 {seconds} 秒。",
        "en": "reconciled: {files} files, {arrived} new or changed, {gone} removed, {moved} moved, {applied} removals applied on the mirror, {seconds} s.",
    },
    "mirror.unreadable": {
        "zh": "无法读取 {path}（{reason}）：服务账户没有读取权限或磁盘出错。该文件未被当作删除，镜像上保留原有副本；请检查它的权限（如 chmod/chown）。",
        "en": "cannot read {path} ({reason}): no permission for the service account, or a disk error. It is not treated as deleted; the mirror keeps its previous copy. Check its permissions.",
    },
    "mirror.unlisted": {
        "zh": "无法列出文件夹 {path}：其中的文件未被当作删除，镜像上的副本保留；请检查它的权限。",
        "en": "cannot list folder {path}: its files are not treated as deleted and their mirror copies stay. Check its permissions.",
    },
    "mirror.incomplete": {
        "zh": "镜像尚未完全同步（{count} 个文件待复制，或有删除被暂停、镜像盘不可用）。",
        "en": "the mirror is not fully in sync ({count} files to copy, or deletions held, or the mirror disk missing).",
    },
    "service.already_running": {
        "zh": "另一个 dangan 服务已在运行（锁文件 {path}）。",
        "en": "another dangan service is running (lock {path}).",
    },
    "service.inotify_failed": {
        "zh": "无法启动文件监视（inotify）：{detail}。如果是实例数用尽，请调高 /proc/sys/fs/inotify/max_user_instances（现为 {limit}）。",
        "en": "cannot start watching (inotify): {detail}. If instances ran out, raise /proc/sys/fs/inotify/max_user_instances (now {limit}).",
    },
    "service.ready": {"zh": "正在监视档案目录", "en": "watching the archive"},
    "service.stopping": {"zh": "正在停止", "en": "stopping"},
    "service.status": {"zh": "待处理 {queue} 项，告警 {alerts} 项", "en": "{queue} pending, {alerts} alerts"},
    "status.running": {"zh": "服务：运行中（进程 {pid}）", "en": "service: running (pid {pid})"},
    "status.stopped": {"zh": "服务：未运行", "en": "service: not running"},
    "status.reconcile": {
        "zh": "上次完整核对：{at}，用时 {seconds} 秒，{files} 个文件",
        "en": "last reconcile: {at}, {seconds} s, {files} files",
    },
    "status.reconcile_never": {"zh": "上次完整核对：从未", "en": "last reconcile: never"},
    "status.queue": {"zh": "待处理：{queue} 项；档案文件：{files} 个", "en": "queue: {queue}; records: {files}"},
    "status.mirror_ok": {"zh": "镜像盘：已挂载", "en": "mirror disk: mounted"},
    "status.mirror_missing": {"zh": "镜像盘：未挂载（缺少标记文件）", "en": "mirror disk: NOT mounted (marker missing)"},
    "status.mirror_behind": {
        "zh": "镜像滞后：{count} 个文件尚未复制（最早的已等待 {seconds} 秒）",
        "en": "mirror behind: {count} files not copied yet (oldest waiting {seconds} s)",
    },
    "status.mirror_current": {"zh": "镜像：已同步", "en": "mirror: in sync"},
    "status.held": {
        "zh": "暂停的删除：{count} 个文件（自 {since} 起）。确认无误后运行 dangan mirror --confirm-deletes",
        "en": "deletions held: {count} files (since {since}). If intended, run dangan mirror --confirm-deletes",
    },
    "status.offsite": {
        "zh": "异地备份：最近成功 {ended}，清单 {files} 个文件；验证：{verified}",
        "en": "off-site: last success {ended}, {files} files listed; verification: {verified}",
    },
    "status.offsite_unverified": {"zh": "尚未验证", "en": "not verified yet"},
    "status.offsite_never": {"zh": "异地备份：从未成功", "en": "off-site: never succeeded"},
    "status.offsite_failed": {"zh": "最近一次异地备份失败（{ended}）：{reason}", "en": "last off-site run failed ({ended}): {reason}"},
    "status.pending_deletions": {"zh": "待执行的删除：{count} 个", "en": "removals pending: {count}"},
    "status.violations": {
        "zh": "未改正的规则问题：错误 {errors}，警告 {warnings}",
        "en": "open rule violations: {errors} error(s), {warnings} warning(s)",
    },
    "status.alert": {"zh": "告警：{kind}（{detail}）", "en": "alert: {kind} ({detail})"},
    "alert.mirror_missing": {"zh": "镜像盘未挂载", "en": "mirror disk not mounted"},
    "alert.mirror_write": {"zh": "写镜像失败，稍后重试", "en": "mirror writes failing, retrying"},
    "alert.mirror_hung": {"zh": "镜像盘无响应（写入卡住），暂停写镜像，待办已记入目录库", "en": "mirror disk hung (a write is stuck); mirror writes paused, work kept in the catalog"},
    "alert.archive_missing": {"zh": "档案盘未就绪，不执行任何删除", "en": "archive disk not ready, no deletion applied"},
    "alert.deletions_held": {"zh": "大批删除已暂停", "en": "mass deletion held"},
    "alert.primary_corrupt": {"zh": "档案盘上的文件内容损坏", "en": "silent corruption on the archive disk"},
    "alert.watch_shortfall": {"zh": "部分文件夹未被监视，已改为每 5 分钟核对", "en": "some folders are not watched; reconciling every 5 minutes"},
    "alert.watch_limit_near": {"zh": "文件夹数接近 inotify 监视上限", "en": "folder count near the inotify watch limit"},
    "alert.reload_failed": {"zh": "新配置有误，仍按原配置运行", "en": "new config invalid, old one still running"},
    # --- off-site ---------------------------------------------------------------------------------
    "offsite.not_configured": {
        "zh": "尚未配置异地备份（配置项 offsite.remote 为空）。请填写合作单位的 rclone 远端，或本机文件夹。",
        "en": "no off-site target configured (offsite.remote is empty).",
    },
    "offsite.nothing_to_verify": {
        "zh": "还没有成功的异地备份可供验证。请先运行 dangan backup。",
        "en": "no successful off-site run to verify yet; run dangan backup first.",
    },
    "offsite.manifest_missing": {
        "zh": "本地找不到第 {run} 次异地备份的清单。",
        "en": "the manifest of off-site run {run} is missing locally.",
    },
    "offsite.manifest_gone": {
        "zh": "合作单位处缺少清单 {name}（被删除或被回滚）",
        "en": "the partner no longer holds manifest {name} (deleted or rolled back)",
    },
    "offsite.sample_missing": {"zh": "{object}：合作单位处缺失", "en": "{object}: missing at the partner"},
    "offsite.sample_corrupt": {"zh": "{object}：内容与清单不符", "en": "{object}: content differs from the manifest"},
    "offsite.run_ok": {
        "zh": "异地备份完成（{kind}，编号 {run}）：本次传送 {files} 个文件、{bytes} 字节；清单共 {total} 个文件。清单：{manifest}",
        "en": "off-site run done ({kind}, id {run}): shipped {files} files, {bytes} bytes; the inventory lists {total} files. Manifest: {manifest}",
    },
    "offsite.run_failed": {
        "zh": "异地备份失败（编号 {run}）：{reason}。已传送的部分保留，下次从中断处继续。",
        "en": "off-site run {run} failed: {reason}. What was shipped stays; the next run continues from there.",
    },
    "offsite.not_shipped": {
        "zh": "另有 {count} 个文件尚未在镜像盘上核实，下次备份时传送。",
        "en": "{count} more files are not yet verified on the mirror and will ship next time.",
    },
    "offsite.verify_ok": {
        "zh": "验证通过（{method}）：合作单位持有第 {run} 次清单中的全部 {count} 个对象，内容完好。",
        "en": "verified ({method}): the partner holds all {count} objects of run {run}, intact.",
    },
    "offsite.verify_failed": {
        "zh": "验证未通过（{method}，第 {run} 次清单）：\n{problems}",
        "en": "verification failed ({method}, run {run}):\n{problems}",
    },
    "manifest.title": {"zh": "异地备份清单（登记用）", "en": "Off-site inventory (for the register)"},
    "manifest.run": {"zh": "编号：{run}　类型：{kind}　时间：{created}", "en": "run: {run}  kind: {kind}  time: {created}"},
    "manifest.kind.incremental": {"zh": "增量", "en": "incremental"},
    "manifest.kind.full": {"zh": "全量", "en": "full"},
    "manifest.kind.snapshot": {"zh": "年度报送", "en": "yearly submission"},
    "manifest.totals": {
        "zh": "清单共 {files} 个文件，{bytes}；本次传送 {shipped} 个，{shipped_bytes}",
        "en": "{files} files, {bytes} in all; shipped this run: {shipped}, {shipped_bytes}",
    },
    "manifest.delta": {
        "zh": "本清单为增量清单：新增或修改 {changed} 个，移出 {removed} 个，以第 {base} 次清单为基础",
        "en": "a delta inventory: {changed} added or changed, {removed} removed, on top of run {base}",
    },
    "manifest.chain_broken": {
        "zh": "清单链不完整：第 {run} 次的增量清单所依据的第 {base} 次清单不在（被删除或未送达），无法重建完整清单。",
        "en": "the inventory chain is broken: delta {run} builds on run {base}, whose inventory is missing.",
    },
    "manifest.chain_mismatch": {
        "zh": "清单链重建后的文件数与第 {run} 次清单记载的不符（应为 {expected}，得到 {found}）。",
        "en": "the inventory chain replayed to run {run} lists {found} files, its inventory says {expected}.",
    },
    "manifest.header": {"zh": "处室\t文件数\t大小", "en": "department\tfiles\tsize"},
    "manifest.sign": {
        "zh": "移交方签字：__________　接收方签字：__________　日期：__________",
        "en": "handed over by: __________  received by: __________  date: __________",
    },
    "key.missing": {
        "zh": "找不到异地备份密钥文件 {path}。它由 dangan init 生成；如已丢失，请用打印的恢复单重建。",
        "en": "off-site key file {path} not found; dangan init creates it, or rebuild it from the recovery sheet.",
    },
    "secret.too_open": {
        "zh": "{path} 的权限为 {mode}，同组或其他用户可读；其中有密码或密钥，为安全起见拒绝使用。请执行 chmod 600 {path}",
        "en": "{path} has mode {mode}: group or others can read it, and it holds secrets; refused. Run chmod 600 {path}",
    },
    "key.unreadable": {"zh": "无法读取密钥文件 {path}：{detail}", "en": "cannot read key file {path}: {detail}"},
    "key.recovery_sheet": {
        "zh": "===== 异地备份恢复单（请打印后封存，勿存放在服务器上）=====\n"
              "没有这张单上的密钥，任何人（包括本校和合作单位）都无法读取异地备份，也无法从异地恢复！\n"
              "异地存储：{remote}\n密钥文件：{path}（权限 600）\n生成时间：{created}\n"
              "password：{password}\nsalt：{salt}\n"
              "这两把密钥是 rclone crypt 的 password 与 password2（salt）。即使 dangan 无法安装，也能只用 rclone 和 Python 取回全部文件：\n"
              "步骤见 dangan 源代码中的 docs/FORMAT.md 第 3 节（“不用 dangan 取回”），请把该文档与本单一起打印封存。\n"
              "==============================================================",
        "en": "===== OFF-SITE RECOVERY SHEET (print it, seal it, keep it off this server) =====\n"
              "Without these keys nobody, school or partner, can read the off-site copy or restore from it!\n"
              "off-site storage: {remote}\nkey file: {path} (mode 600)\ncreated: {created}\n"
              "password: {password}\nsalt: {salt}\n"
              "These are rclone crypt's password and password2 (salt). Even without dangan, rclone and Python get\n"
              "every file back: see docs/FORMAT.md, section 3, in dangan's sources; print it and seal it with this sheet.\n"
              "==============================================================================",
    },
    # --- restore ---------------------------------------------------------------------------------
    "restore.summary": {
        "zh": "恢复（来源：{source}，目标：{target}，时刻：{at}）：应恢复 {requested} 个文件，本次恢复 {restored} 个，此前已恢复或相同 {already} 个，共 {bytes} 字节，用时 {seconds} 秒。",
        "en": "restore (from {source} into {target}, as of {at}): {requested} files requested, {restored} restored now, {already} already there, {bytes} bytes, {seconds} s.",
    },
    "restore.latest": {"zh": "最新", "en": "latest"},
    "restore.all_verified": {"zh": "全部文件已恢复，哈希逐一核验无误。", "en": "every file restored and verified against its hash."},
    "restore.some_failed": {"zh": "有 {count} 个文件未能恢复或核验：", "en": "{count} file(s) could not be restored or verified:"},
    "restore.bad_at": {
        "zh": "--at 的值 {value} 不是 ISO 8601 时间（如 2026-10-01T08:00 或 2026-10-01T08:00+08:00）",
        "en": "--at {value} is not an ISO 8601 time (e.g. 2026-10-01T08:00)",
    },
    "restore.bad_only": {
        "zh": "--only {path} 被拒绝：须为档案内的相对路径，不能以 / 开头，不能含 ..",
        "en": "--only {path} refused: it must be an archive-relative path without .. or a leading /",
    },
    "restore.no_catalog": {
        "zh": "找不到目录库（已查：{paths}）。镜像盘上的目录库副本也不在时，请改用 --from offsite。",
        "en": "no catalog found (looked at {paths}); use --from offsite.",
    },
    "restore.no_manifest": {"zh": "合作单位处没有（该时刻之前的）清单。", "en": "the partner holds no inventory (from before that moment)."},
    "restore.no_copy": {"zh": "没有找到哈希相符的副本", "en": "no copy with a matching hash was found"},
    "restore.not_at_partner": {"zh": "合作单位处缺少该内容", "en": "the partner lacks this content"},
    "restore.source_corrupt": {"zh": "副本内容与记录的哈希不符（已损坏），未采用", "en": "the copy does not match the recorded hash (damaged); not used"},
    "restore.write_corrupt": {"zh": "写入后读回的内容与哈希不符", "en": "what was written does not read back with the right hash"},
    "restore.source_unreadable": {"zh": "副本无法读取：{detail}", "en": "the copy cannot be read: {detail}"},
    "restore.exists": {"zh": "目标中已有不同的文件，未覆盖（需要时加 --overwrite）", "en": "a different file exists in the target; not overwritten (use --overwrite)"},
    "restore.refused_path": {
        "zh": "目标路径被拒绝（可能有符号链接指向目标之外）：{detail}",
        "en": "target path refused (a symlink pointing out of the target?): {detail}",
    },
    "restore.plan": {"zh": "将恢复 {count} 个文件，共 {bytes} 字节（演练，未写入）。", "en": "would restore {count} files, {bytes} bytes (dry run)."},
    "restore.report_at": {"zh": "报告和核验清单：{path}", "en": "report and verified list: {path}"},
    "restore.list_header": {"zh": "核验清单（哈希\t大小\t路径）：", "en": "verified list (hash\tsize\tpath):"},
    "drill.result": {
        "zh": "恢复演练（{source}）：{files} 个文件，{bytes} 字节，用时 {seconds} 秒，{verdict}；按此速度完整恢复约需 {projected} 秒。",
        "en": "restore drill ({source}): {files} files, {bytes} bytes, {seconds} s, {verdict}; a full restore would take about {projected} s.",
    },
    "drill.ok": {"zh": "全部核验无误", "en": "all verified"},
    "drill.failed": {"zh": "{count} 个文件失败", "en": "{count} file(s) failed"},
    "drill.source.mirror": {"zh": "镜像盘", "en": "mirror"},
    "drill.source.offsite": {"zh": "合作单位", "en": "partner site"},
    # --- audit and report -------------------------------------------------------------------------
    "cli.audit.help": {
        "zh": "固定性校验：重新计算档案盘、镜像盘和异地副本的哈希，对照目录库，找出损坏、缺失和变化",
        "en": "fixity audit: re-hash the archive, the mirror and the off-site copy against the catalog",
    },
    "cli.audit.repair": {
        "zh": "用哈希相符的副本修复损坏或缺失的副本（每次修复都记入登记簿）",
        "en": "repair damaged or missing copies from a copy whose hash matches (each repair is logged)",
    },
    "cli.report.help": {
        "zh": "生成每周完整性报告（HTML、纯文本、JSON），可用邮件发送",
        "en": "produce the weekly integrity report (HTML, text, JSON), optionally by mail",
    },
    "cli.report.out": {"zh": "报告写到这个文件夹（默认：状态目录下的 reports）", "en": "write the report here (default: reports/ in the state folder)"},
    "cli.report.send": {"zh": "按配置的收件人发送邮件", "en": "mail it to the configured recipients"},
    "audit.summary": {
        "zh": "固定性校验完成：档案盘上 {files} 个文件哈希相符，用时 {seconds} 秒；发现 {problems} 个固定性问题。",
        "en": "fixity audit done: {files} files confirmed on the archive disk in {seconds} s; {problems} fixity problem(s).",
    },
    "audit.finding": {"zh": "  [{copy}] {kind}：{path} {detail} {action}", "en": "  [{copy}] {kind}: {path} {detail} {action}"},
    "copy.primary": {"zh": "档案盘", "en": "archive disk"},
    "copy.mirror": {"zh": "镜像盘", "en": "mirror disk"},
    "copy.offsite": {"zh": "异地", "en": "off-site"},
    "finding.confirmed": {"zh": "相符", "en": "confirmed"},
    "finding.new": {"zh": "新增", "en": "new"},
    "finding.changed": {"zh": "已修改（未经监视记录）", "en": "changed (an edit the watcher missed)"},
    "finding.corrupted": {"zh": "损坏（内容变了，大小和时间没变）", "en": "corrupted (content changed, size and mtime did not)"},
    "finding.moved": {"zh": "移动/改名", "en": "moved/renamed"},
    "finding.removed": {"zh": "已移出", "en": "removed"},
    "finding.missing": {"zh": "缺失", "en": "missing"},
    "finding.extra": {"zh": "多余（目录库中没有）", "en": "extra (not in the catalog)"},
    "finding.unreadable": {"zh": "无法读取", "en": "unreadable"},
    "property.authenticity": {"zh": "真实性（哈希相符）", "en": "authenticity (hashes match)"},
    "property.integrity": {"zh": "完整性（数量与字节数相符）", "en": "integrity (counts and bytes match)"},
    "property.usability": {"zh": "可用性（文件仍能打开）", "en": "usability (files still open)"},
    "property.security": {"zh": "安全性（异地加密并已验证、密钥权限、病毒检查）", "en": "security (off-site encrypted and verified, key permissions, antivirus)"},
    "report.title": {"zh": "档案完整性周报（{week}）", "en": "Archive integrity report ({week})"},
    "verdict.ok": {"zh": "结论：正常", "en": "Verdict: OK"},
    "verdict.attention": {"zh": "结论：需要关注", "en": "Verdict: needs attention"},
    "verdict.critical": {"zh": "结论：严重", "en": "Verdict: CRITICAL"},
    "report.all_fine": {"zh": "三份副本完好，备份及时，没有需要处理的事项。", "en": "All three copies intact, backups fresh, nothing to do."},
    "report.ok": {"zh": "正常", "en": "OK"},
    "report.not_ok": {"zh": "异常", "en": "NOT OK"},
    "report.none": {"zh": "无", "en": "none"},
    "report.properties": {"zh": "四性检测（DA/T 70-2018，最近一次校验：{at}）", "en": "The four properties (DA/T 70-2018; last audit {at})"},
    "report.problem_files": {"zh": "问题文件", "en": "Problem files"},
    "report.violations": {"zh": "各处室待改正的归档问题", "en": "Filing problems each department still has to fix"},
    "report.violation_line": {
        "zh": "  {department}｜{rule}｜{count} 个｜最久已 {days} 天｜{hint}",
        "en": "  {department} | {rule} | {count} | oldest {days} days | {hint}",
    },
    "report.ledger": {"zh": "本周登记（收进、修改、移出、恢复）", "en": "This week's register (intake, change, removal, restore)"},
    "report.backups": {"zh": "备份是否及时", "en": "Backup freshness"},
    "report.mirror_line": {
        "zh": "镜像盘：{available}；待复制 {unmirrored} 个，滞后 {lag} 秒；上次完整核对 {reconcile}",
        "en": "mirror: {available}; {unmirrored} to copy, {lag} s behind; last reconcile {reconcile}",
    },
    "report.offsite_line": {
        "zh": "异地备份：最近成功 {ended}，{files} 个文件，{bytes}；验证：{verification}",
        "en": "off-site: last success {ended}, {files} files, {bytes}; verification: {verification}",
    },
    "report.disks": {"zh": "磁盘剩余空间", "en": "Free disk space"},
    "report.disk_line": {"zh": "  {disk}：剩余 {free} / 共 {total}（{percent}%）", "en": "  {disk}: {free} free of {total} ({percent}%)"},
    "disk.archive": {"zh": "档案盘", "en": "archive disk"},
    "disk.mirror": {"zh": "镜像盘", "en": "mirror disk"},
    "report.drills": {"zh": "恢复演练", "en": "Restore drills"},
    "report.drill_line": {
        "zh": "  {source}：{at}，{files} 个文件，{verdict}；完整恢复预计 {projected}",
        "en": "  {source}: {at}, {files} files, {verdict}; a full restore would take {projected}",
    },
    "report.no_drill": {"zh": "尚未做过恢复演练。", "en": "no restore drill yet."},
    "report.footer": {"zh": "由 dangan 于 {generated} 生成。", "en": "generated by dangan at {generated}."},
    "report.col.property": {"zh": "项目", "en": "property"},
    "report.col.state": {"zh": "状态", "en": "state"},
    "report.col.detail": {"zh": "明细", "en": "detail"},
    "report.col.path": {"zh": "文件", "en": "file"},
    "report.col.copy": {"zh": "副本", "en": "copy"},
    "report.col.found": {"zh": "发现", "en": "found"},
    "report.col.action": {"zh": "处理", "en": "action"},
    "report.col.department": {"zh": "处室", "en": "department"},
    "report.col.rule": {"zh": "规则", "en": "rule"},
    "report.col.count": {"zh": "数量", "en": "count"},
    "report.col.days": {"zh": "已过天数", "en": "days open"},
    "report.col.hint": {"zh": "改正方法", "en": "fix"},
    "report.written": {"zh": "周报已生成：{html}（另有纯文本和 JSON）。{verdict}", "en": "report written: {html} (text and JSON beside it). {verdict}"},
    "report.sent": {"zh": "已发送给 {count} 位收件人。", "en": "mailed to {count} recipient(s)."},
    "report.not_sent": {"zh": "结论正常，按配置不发送。", "en": "verdict OK: not mailed, as configured."},
    "report.send_failed": {"zh": "邮件发送失败（已重试）：{error}。下周报告会注明。", "en": "mailing failed (retried): {error}. Next week's report says so."},
    "report.no_recipients": {"zh": "没有配置收件人（report.recipients），未发送。", "en": "no recipients configured (report.recipients); not mailed."},
    "reason.audit_problems": {"zh": "最近一次校验发现 {count} 个固定性问题（损坏或缺失）", "en": "the last audit found {count} fixity problem(s)"},
    "reason.mirror_missing": {"zh": "镜像盘未挂载", "en": "the mirror disk is not mounted"},
    "reason.mirror_behind": {"zh": "镜像滞后超过一小时（{count} 个文件待复制）", "en": "the mirror is over an hour behind ({count} files)"},
    "reason.deletions_held": {"zh": "有 {count} 个删除被暂停，待确认", "en": "{count} deletions are held for confirmation"},
    "reason.offsite_stale": {"zh": "最近一次成功的异地备份早于 {hours} 小时前（或从未成功）", "en": "the last successful off-site run is older than {hours} hours (or never happened)"},
    "reason.offsite_unverified": {"zh": "最近的异地备份尚未验证", "en": "the latest off-site run is not verified yet"},
    "reason.report_failed": {"zh": "上次周报未能生成：{error}", "en": "last week's report could not be produced: {error}"},
    "reason.send_failed": {"zh": "上次周报邮件发送失败：{error}", "en": "last week's report could not be mailed: {error}"},
    "reason.never_audited": {"zh": "还没有做过固定性校验", "en": "no fixity audit yet"},
    "reason.audit_old": {"zh": "最近一次固定性校验已超过 8 天", "en": "the last fixity audit is over 8 days old"},
    "reason.violations": {"zh": "还有 {count} 个归档规则错误待各处室改正", "en": "{count} filing rule errors wait for the departments"},
    "reason.drill_failed": {"zh": "最近一次恢复演练未通过", "en": "the last restore drill failed"},
    "reason.disk_low": {"zh": "{disk}剩余空间不足 10%", "en": "the {disk} has less than 10% free"},
    # --- ledger events (the seeds' own words) -----------------------------------------------
    "event.intake": {"zh": "收进", "en": "intake"},
    "event.change": {"zh": "修改", "en": "change"},
    "event.move": {"zh": "移动", "en": "move"},
    "event.removal": {"zh": "移出", "en": "removal"},
    "event.restore": {"zh": "恢复", "en": "restore"},
    "event.repair": {"zh": "修复", "en": "repair"},
    # --- check report -----------------------------------------------------------------------
    "severity.error": {"zh": "错误", "en": "error"},
    "severity.warning": {"zh": "警告", "en": "warning"},
    "check.summary": {
        "zh": "共检查 {files} 个文件：{errors} 个错误，{warnings} 个警告。",
        "en": "{files} files checked: {errors} error(s), {warnings} warning(s).",
    },
    "check.all_clean": {"zh": "全部符合归档规则。", "en": "Everything follows the filing rules."},
    "check.per_department": {"zh": "各处室问题数：", "en": "Problems per department:"},
    "check.department_line": {
        "zh": "  {department}：错误 {errors}，警告 {warnings}",
        "en": "  {department}: {errors} error(s), {warnings} warning(s)",
    },
    "check.department_header": {
        "zh": "【{department}】错误 {errors}，警告 {warnings}",
        "en": "[{department}] {errors} error(s), {warnings} warning(s)",
    },
    "check.root_department": {"zh": "（档案主目录顶层）", "en": "(archive root)"},
    "check.hint": {"zh": "改正方法：", "en": "fix: "},
    "check.skipped_header": {"zh": "已跳过 {count} 项（不是普通文件，未检查也不会备份）：", "en": "{count} item(s) skipped (not regular files; not checked or backed up):"},
    "skip.symlink": {"zh": "符号链接（为安全起见从不跟随）", "en": "symbolic link (never followed)"},
    "skip.special": {"zh": "管道、套接字或设备文件", "en": "FIFO, socket or device file"},
    "skip.unreadable": {"zh": "无法读取（权限不足或磁盘错误）：{detail}", "en": "cannot be read (permission or disk error): {detail}"},
    "rules.header": {"zh": "编号 | 严重程度 | 说明", "en": "id | severity | description"},
    # --- rules: title, message and hint -------------------------------------------------------
    "rule.structure.department.title": {
        "zh": "一级文件夹必须是处室（专项组）表中的名称",
        "en": "level 1 folders must be departments from the department table",
    },
    "rule.structure.department.message": {
        "zh": "{path}：一级文件夹“{name}”不在处室表中",
        "en": "{path}: level 1 folder '{name}' is not a known department",
    },
    "rule.structure.department.hint": {
        "zh": "把它改名为处室表中的名称（如 {example}），或把内容移到相应处室文件夹；新增处室请在配置 departments 中添加。",
        "en": "rename it to a department from the table (e.g. {example}) or move its content; add new departments under 'departments'.",
    },
    "rule.structure.category.title": {
        "zh": "二级文件夹必须是项目类别表中的名称",
        "en": "level 2 folders must be project categories from the category table",
    },
    "rule.structure.category.message": {
        "zh": "{path}：二级文件夹“{name}”不在项目类别表中",
        "en": "{path}: level 2 folder '{name}' is not a known project category",
    },
    "rule.structure.category.hint": {
        "zh": "把它改名为项目类别（如 {example}），或移到相应类别下；新增类别请在配置 categories 中添加。",
        "en": "rename it to a category (e.g. {example}) or move it under one; add categories under 'categories'.",
    },
    "rule.structure.depth.title": {
        "zh": "文件须放在三级文件夹（任务条目）或更深处",
        "en": "files belong in a level 3 folder (task item) or below",
    },
    "rule.structure.depth.message": {
        "zh": "{path}：文件直接放在第 {level} 级文件夹里，没有放进任务条目（第 3 级）文件夹",
        "en": "{path}: the file sits in a level {level} folder, not inside a task item (level 3) folder",
    },
    "rule.structure.depth.message.root": {
        "zh": "{path}：文件直接放在档案主目录顶层，没有放进任务条目（三级）文件夹",
        "en": "{path}: the file sits at the top of the archive, not inside a task item (level 3) folder",
    },
    "rule.structure.depth.hint": {
        "zh": "按“处室/项目类别/任务条目”建好文件夹，把文件移进对应的任务条目文件夹。",
        "en": "create department/category/task-item folders and move the file into its task item.",
    },
    "rule.naming.date.title": {
        "zh": "照片、视频、音频须以“年月日+内容”命名（如 20210205校运动会开幕式.jpg）",
        "en": "photos, videos and audio are named date + content (e.g. 20210205opening.jpg)",
    },
    "rule.naming.date.message.missing": {
        "zh": "{path}：文件名没有以日期（年月日，8 位数字）开头",
        "en": "{path}: the name does not start with a date (YYYYMMDD)",
    },
    "rule.naming.date.message.invalid": {
        "zh": "{path}：文件名开头的 {date} 不是有效日期",
        "en": "{path}: {date} at the start of the name is not a real date",
    },
    "rule.naming.date.message.future": {
        "zh": "{path}：文件名开头的日期 {date} 在将来",
        "en": "{path}: the date {date} at the start of the name lies in the future",
    },
    "rule.naming.date.message.no_content": {
        "zh": "{path}：日期后面缺少内容说明",
        "en": "{path}: nothing describes the content after the date",
    },
    "rule.naming.date.example_content": {"zh": "活动内容", "en": "event"},
    "rule.naming.date.hint.exif": {
        "zh": "按“年月日+内容”改名，建议：{proposal}（日期取自照片的拍摄时间 EXIF）",
        "en": "rename as date + content, e.g. {proposal} (date from the photo's EXIF capture time)",
    },
    "rule.naming.date.hint.mtime": {
        "zh": "按“年月日+内容”改名，建议：{proposal}（日期取自文件修改时间，请核对实际拍摄日期）",
        "en": "rename as date + content, e.g. {proposal} (date from the file's modification time; please check it)",
    },
    "rule.naming.date.hint.content": {
        "zh": "在日期后写明内容，例如：{proposal}",
        "en": "describe the content after the date, e.g. {proposal}",
    },
    "rule.naming.encoding.title": {
        "zh": "文件名须为 UTF-8 编码（旧 Windows 共享的 GBK 文件名会出问题）",
        "en": "names must be valid UTF-8 (GBK names from old Windows shares break things)",
    },
    "rule.naming.encoding.message": {
        "zh": "{path}：名称不是 UTF-8 编码（可能是 GBK），其他电脑上会显示成乱码",
        "en": "{path}: the name is not UTF-8 (probably GBK) and shows garbled on other computers",
    },
    "rule.naming.encoding.hint": {
        "zh": "在服务器上把它改名为：{proposal}",
        "en": "rename it on the server to: {proposal}",
    },
    "rule.naming.encoding.hint.unknown": {
        "zh": "在服务器上用正确的中文名称重新命名（原名无法识别）。",
        "en": "rename it on the server with a proper name (the old name cannot be decoded).",
    },
    "rule.naming.too-long.title": {
        "zh": "名称不超过 {limit} 字节（约 {chars} 个汉字），否则加密异地备份难以承载",
        "en": "names stay within {limit} bytes (about {chars} CJK characters) for the encrypted off-site copy",
    },
    "rule.naming.too-long.message": {
        "zh": "{path}：名称有 {length} 字节，超过 {limit} 字节",
        "en": "{path}: the name has {length} bytes, more than {limit}",
    },
    "rule.naming.too-long.hint": {
        "zh": "把名称缩短到 {chars} 个汉字以内，详细内容可写进说明文档。",
        "en": "shorten the name to at most {chars} CJK characters; put details in a description document.",
    },
    "rule.format.not-allowed.title": {
        "zh": "只能归档允许的格式（PDF、OFD、Word、Excel、PPT、WPS、JPG、PNG、TIF、MP3、WAV、MP4、MOV 等）",
        "en": "only allowed formats are archived (PDF, OFD, Office, WPS, JPG, PNG, TIF, MP3, WAV, MP4, MOV …)",
    },
    "rule.format.not-allowed.message": {
        "zh": "{path}：“{ext}”格式不在允许归档的格式之列",
        "en": "{path}: the format '{ext}' is not allowed in the archive",
    },
    "rule.format.not-allowed.hint": {
        "zh": "转换为允许的格式（文档转 PDF，图片转 JPG/TIF，视频转 MP4）后再归档；允许的格式：{allowed}。",
        "en": "convert it to an allowed format (documents to PDF, images to JPG/TIF, video to MP4); allowed: {allowed}.",
    },
    "rule.format.mismatch.title": {
        "zh": "文件内容须与扩展名相符",
        "en": "the content must match the extension",
    },
    "rule.format.mismatch.message": {
        "zh": "{path}：扩展名是 .{ext}，但内容是 {actual}",
        "en": "{path}: the extension is .{ext} but the content is {actual}",
    },
    "rule.format.mismatch.hint": {
        "zh": "用原来的软件另存为正确的格式，或把扩展名改为 .{proposal}。",
        "en": "save it again in the right format, or change the extension to .{proposal}.",
    },
    "rule.format.mismatch.hint.unknown": {
        "zh": "用原来的软件重新导出为 .{ext} 格式。",
        "en": "export it again from the original program as .{ext}.",
    },
    "rule.format.unknown_content": {"zh": "无法识别的内容", "en": "unrecognised content"},
    "rule.scan.camera.title": {
        "zh": "证书、文件等须为扫描件，不得用手机或相机拍照",
        "en": "certificates and documents must be scans, not phone or camera photos",
    },
    "rule.scan.camera.message": {
        "zh": "{path}：这是手机或相机拍摄的照片（{evidence}），证书、文件类材料须为扫描件",
        "en": "{path}: this is a phone or camera photo ({evidence}); certificates and documents must be scanned",
    },
    "rule.scan.camera.hint": {
        "zh": "用扫描仪（不低于 {dpi} dpi）重新扫描原件，替换这个文件。",
        "en": "scan the original on a scanner (at least {dpi} dpi) and replace this file.",
    },
    "rule.scan.resolution.title": {
        "zh": "扫描件分辨率不低于 {dpi} dpi（DA/T 31-2017）",
        "en": "scans have at least {dpi} dpi (DA/T 31-2017)",
    },
    "rule.scan.resolution.message": {
        "zh": "{path}：扫描分辨率为 {found} dpi，低于 {dpi} dpi",
        "en": "{path}: scanned at {found} dpi, below {dpi} dpi",
    },
    "rule.scan.resolution.message.unknown": {
        "zh": "{path}：文件没有记录扫描分辨率，无法确认达到 {dpi} dpi",
        "en": "{path}: the file records no resolution, so it cannot be shown to reach {dpi} dpi",
    },
    "rule.scan.resolution.hint": {
        "zh": "把扫描仪设为 {dpi} dpi 或更高，重新扫描原件。",
        "en": "set the scanner to {dpi} dpi or more and scan the original again.",
    },
    "rule.readable.corrupt.title": {
        "zh": "文件须完整可读（没有损坏或截断）",
        "en": "files must be complete and readable (not damaged or truncated)",
    },
    "rule.readable.corrupt.message": {
        "zh": "{path}：文件已损坏或不完整，无法正常打开（{detail}）",
        "en": "{path}: the file is damaged or incomplete and cannot be opened ({detail})",
    },
    "rule.readable.corrupt.hint": {
        "zh": "从原始来源重新复制或重新导出这个文件；若原件也已损坏，请联系档案室。",
        "en": "copy or export the file again from its source; if that is damaged too, contact the archive office.",
    },
    "rule.readable.encrypted.title": {
        "zh": "不得归档加密（设了密码）的文件",
        "en": "password-protected (encrypted) files cannot be archived",
    },
    "rule.readable.encrypted.message": {
        "zh": "{path}：文件设了密码或已加密，日后可能无法打开",
        "en": "{path}: the file is password-protected or encrypted and may become unreadable",
    },
    "rule.readable.encrypted.hint": {
        "zh": "用原来的软件打开，取消密码保护后另存，再替换这个文件。",
        "en": "open it in its program, remove the password protection, save, and replace this file.",
    },
    "rule.folder.no-description.title": {
        "zh": "只有照片/视频的文件夹须附 Word 说明（时间、地点、参加人、结果）",
        "en": "a folder of only photos/videos needs a Word description (time, place, participants, result)",
    },
    "rule.folder.no-description.message": {
        "zh": "{path}：文件夹里只有照片/视频（{count} 个），没有 Word 说明文档",
        "en": "{path}: the folder holds only photos/videos ({count}) and no Word description",
    },
    "rule.folder.no-description.hint": {
        "zh": "在该文件夹中添加一个 Word 文档，写明时间、地点、参加人、结果及获得评价。",
        "en": "add a Word document to the folder describing time, place, participants and result.",
    },
    "rule.folder.no-description.message.fields": {
        "zh": "{path}：说明文档缺少：{fields}",
        "en": "{path}: the description does not mention: {fields}",
    },
    "rule.folder.no-description.hint.fields": {
        "zh": "在说明文档中补写：{fields}。",
        "en": "add to the description: {fields}.",
    },
    "rule.duplicate.title": {
        "zh": "同一内容不要重复归档",
        "en": "the same content should not be filed twice",
    },
    "rule.duplicate.message": {
        "zh": "{path}：与 {other} 内容完全相同",
        "en": "{path}: same content as {other}",
    },
    "rule.duplicate.hint": {
        "zh": "确认两处是否都需要；只保留一份，另一处可在说明中注明“见 {other}”。",
        "en": "check whether both places need it; keep one and refer to {other} from the other.",
    },
    # --- r-report ---
    "audit.verdict.ok": {"zh": "正常", "en": "OK"},
    "audit.verdict.attention": {"zh": "需要关注", "en": "needs attention"},
    "audit.verdict.critical": {"zh": "严重", "en": "CRITICAL"},
    "audit.property_line": {"zh": "  {name}：{state}（{facts}）", "en": "  {name}: {state} ({facts})"},
    "audit.facts.authenticity": {"zh": "{confirmed} 个副本哈希相符，{corrupted} 个损坏",
                                 "en": "{confirmed} copies match their hash, {corrupted} corrupted"},
    "audit.facts.integrity": {"zh": "目录库记录 {files} 个文件，档案盘上 {primary} 个，缺失 {missing} 个",
                              "en": "the catalog lists {files} files, {primary} on the archive disk, {missing} missing"},
    "audit.facts.inventory": {"zh": "；最近一份异地清单列 {files} 个文件", "en": "; the last off-site inventory lists {files}"},
    "audit.facts.usability": {"zh": "{unreadable} 个文件已无法打开", "en": "{unreadable} files no longer open"},
    "audit.facts.offsite_none": {"zh": "未配置异地备份（offsite.remote）", "en": "no off-site copy configured (offsite.remote)"},
    "audit.facts.offsite_ok": {"zh": "异地副本已加密且验证无误", "en": "the off-site copy is encrypted and verified"},
    "audit.facts.offsite_failed": {"zh": "异地副本验证未通过", "en": "the off-site copy failed its verification"},
    "audit.facts.offsite_unverified": {"zh": "尚无经过验证的异地副本", "en": "no verified off-site copy yet"},
    "audit.facts.key_private": {"zh": "密钥文件仅本账户可读", "en": "the key file is private"},
    "audit.facts.key_open": {"zh": "密钥文件其他账户也能读取（请执行 chmod 600）",
                             "en": "the key file is readable by others (run chmod 600 on it)"},
    "audit.facts.antivirus_none": {"zh": "未配置病毒检查", "en": "no virus scanner configured"},
    "audit.facts.antivirus_ok": {"zh": "ClamAV 应答正常", "en": "ClamAV answered"},
    "audit.facts.antivirus_bad": {"zh": "ClamAV 没有正常应答（{answer}）", "en": "ClamAV did not answer as expected ({answer})"},
    "audit.facts.unmirrored": {"zh": "{count} 个文件尚未复制到镜像盘", "en": "{count} files not yet on the mirror disk"},
    "audit.facts.join": {"zh": "；", "en": "; "},
    "audit.offsite_warning": {"zh": "异地副本本次未能核验：{warning}", "en": "the off-site copy could not be checked: {warning}"},
    "audit.repair.from_primary": {"zh": "已用档案盘上的完好副本修复", "en": "repaired from the archive disk"},
    "audit.repair.from_mirror": {"zh": "已用镜像盘上的完好副本修复", "en": "repaired from the mirror disk"},
    "audit.repair.no_good_copy": {"zh": "未修复：镜像盘上没有哈希相符的副本，请从异地备份恢复（dangan restore）",
                                  "en": "not repaired: no copy with a matching hash on the mirror; restore it from off-site (dangan restore)"},
    "audit.repair.failed": {"zh": "修复失败：{error}", "en": "repair failed: {error}"},
    "finding.unavailable": {"zh": "无法核对（镜像盘未挂载）", "en": "could not be checked (the mirror disk is not mounted)"},
    "finding.unverified": {"zh": "核验未通过", "en": "failed verification"},
    "property.short.authenticity": {"zh": "真实性", "en": "authenticity"},
    "property.short.integrity": {"zh": "完整性", "en": "integrity"},
    "property.short.usability": {"zh": "可用性", "en": "usability"},
    "property.short.security": {"zh": "安全性", "en": "security"},
    "reason.property": {"zh": "最近一次校验：{property}为“{state}”（{facts}）",
                        "en": "the last audit rates {property} \"{state}\" ({facts})"},
    "report.col.total": {"zh": "合计", "en": "total"},
    "report.col.chart": {"zh": "图示", "en": "chart"},
    "report.col.disk": {"zh": "磁盘", "en": "disk"},
    "report.col.free": {"zh": "剩余", "en": "free"},
    "report.col.size": {"zh": "容量", "en": "size"},
    "report.col.share": {"zh": "剩余比例", "en": "free share"},
    "report.col.source": {"zh": "来源", "en": "source"},
    "report.col.at": {"zh": "时间", "en": "time"},
    "report.col.files": {"zh": "文件数", "en": "files"},
    "report.col.result": {"zh": "结果", "en": "result"},
    "report.col.projected": {"zh": "完整恢复预计用时", "en": "full restore would take"},
    "report.register_empty": {"zh": "本周没有登记。", "en": "nothing registered this week."},
    "report.trend": {"zh": "剩余空间走势（最近 {count} 次记录）", "en": "free space over the last {count} samples"},
    "report.trend_later": {"zh": "走势图在记录满两次（两份周报）后显示。", "en": "the trend appears once two reports have sampled the disks."},
    "report.axis_free": {"zh": "剩余空间", "en": "free space"},
    "report.hours": {"zh": "{value} 小时", "en": "{value} h"},
    "report.minutes": {"zh": "{value} 分钟", "en": "{value} min"},
    "report.seconds": {"zh": "{value} 秒", "en": "{value} s"},
    "report.mirror_state": {
        "zh": "镜像盘：{available}；待复制 {unmirrored} 个文件，滞后 {lag}；上次完整核对：{reconcile}",
        "en": "mirror: {available}; {unmirrored} files to copy, {lag} behind; last reconcile: {reconcile}",
    },
    "report.more_problems": {"zh": "另有 {count} 个问题文件未列出，完整清单见 JSON 文件。",
                             "en": "{count} more problem files are not listed; the JSON file has them all."},
    # --- h-rules ---
    "rule.scan.camera.message.weak": {
        "zh": "{path}：可能是手机拍摄的（{evidence}），但没有曝光、镜头或定位信息，无法确定",
        "en": "{path}: possibly taken with a phone ({evidence}), but no exposure, lens or location data says so",
    },
    "rule.scan.camera.hint.weak": {
        "zh": "如果这是手机拍照或手机扫描 App 的结果，请用扫描仪（不低于 {dpi} dpi）重新扫描原件；若确为扫描件可忽略。",
        "en": "if a phone or a phone scan app made it, scan the original on a scanner (at least {dpi} dpi); if it is a scan, ignore this.",
    },
    "rule.readable.corrupt.message.unverified": {
        "zh": "{path}：本机无法完整核验这个文件（{detail}），不一定损坏",
        "en": "{path}: this file could not be fully verified here ({detail}); it is not necessarily damaged",
    },
    "rule.readable.corrupt.hint.unverified": {
        "zh": "在能打开它的电脑上确认文件完好；如需长期保存，建议另存为常见格式（如 PDF、JPEG、不压缩的 TIFF）。",
        "en": "check on a computer that opens it that the file is whole; for long-term keeping, save it in a common format (PDF, JPEG, uncompressed TIFF).",
    },
    "rule.readable.encrypted.message.restricted": {
        "zh": "{path}：PDF 设了使用限制（不能打印或复制），可以打开但受限制",
        "en": "{path}: the PDF carries usage restrictions (no printing or copying); it opens, but restricted",
    },
    "rule.readable.encrypted.hint.restricted": {
        "zh": "用原来的软件取消“权限密码”（使用限制）后另存，再替换这个文件。",
        "en": "remove the permissions password (usage restrictions) in its program, save, and replace this file.",
    },
    "damage.empty": {"zh": "文件是空的（0 字节）", "en": "the file is empty (0 bytes)"},
    "damage.header": {"zh": "文件开头已损坏", "en": "the start of the file is damaged"},
    "damage.structure": {"zh": "文件结构已损坏，无法解码", "en": "the file's structure is damaged and cannot be decoded"},
    "damage.truncated": {"zh": "文件不完整（被截断）", "en": "the file is incomplete (truncated)"},
    "damage.stream": {"zh": "第 {arg} 页的压缩数据已损坏", "en": "the compressed data of page {arg} is damaged"},
    "damage.member": {"zh": "其中的 {arg} 已损坏", "en": "its part {arg} is damaged"},
    "damage.ole": {"zh": "Office 复合文档结构已损坏", "en": "the Office compound-file structure is damaged"},
    "damage.stream_ole": {"zh": "其中的数据流 {arg} 已损坏或不完整", "en": "its stream {arg} is damaged or incomplete"},
    "damage.ole_main": {"zh": "缺少正文数据（主数据流）", "en": "its main content stream is missing"},
    "damage.pages": {
        "zh": "两种阅读器读出的页数不同（{args[0]} 页与 {args[1]} 页），文件目录已损坏",
        "en": "two readers find different page counts ({args[0]} and {args[1]}): the file's index is damaged",
    },
    "damage.decoder": {"zh": "读取时出错：{arg}", "en": "reading failed: {arg}"},
    # --- h-mirror ---
    "alert.mirror_refill": {
        "zh": "镜像盘缺少目录库所列的文件副本（换了新盘，或副本在镜像盘上被删除），正在补齐",
        "en": "the mirror lacks copies the catalog lists (a new disk, or copies deleted on it); refilling",
    },
    "mirror.refilled": {
        "zh": "镜像盘缺少 {count} 个文件副本（换了新盘，或副本在镜像盘上被删除），已从档案盘补齐 {done} 个。",
        "en": "the mirror lacked {count} copies (a new disk, or copies deleted on it); "
              "{done} refilled from the archive.",
    },
    "skip.reserved": {
        "zh": "名称为 dangan 保留（镜像盘上存放 dangan 自身数据的文件夹），无法镜像；请改名",
        "en": "a name dangan reserves (its own folder on the mirror disk): cannot be mirrored; rename it",
    },
    "mirror.swept": {
        "zh": "已清除镜像盘上中断的复制留下的 {count} 个临时文件。",
        "en": "removed {count} temp files an interrupted copy left on the mirror.",
    },
    # --- h-catalog ---
    "catalog.missing": {
        "zh": "找不到目录数据库 {path}（状态文件夹丢失或被清空？）。dangan 不会另建一个空目录库：那样会丢掉全部历史，还会覆盖镜像盘上的目录库副本（{copy}）。请先停止服务，再运行 `dangan init --adopt`：它从镜像盘上的副本取回目录库（没有副本时重新登记档案）。",
        "en": "the catalog {path} is missing (state folder lost or emptied?). dangan does not start an empty catalog: that would lose the whole history and overwrite the catalog copy on the mirror disk ({copy}). Stop the service, then run `dangan init --adopt`: it takes the catalog back from the mirror's copy (or registers the archive anew when there is none).",
    },
    "catalog.damaged": {
        "zh": "目录数据库 {path} 已损坏（{detail}），未再使用它，镜像盘上的目录库副本（{copy}）也没有被它覆盖。请先停止服务，再运行 `dangan init --adopt`：损坏的文件移到一旁保留，目录库从镜像盘上的副本取回。",
        "en": "the catalog {path} is damaged ({detail}); it was not used, and it did not overwrite the catalog copy on the mirror disk ({copy}). Stop the service, then run `dangan init --adopt`: the damaged file is set aside and the catalog is taken back from the mirror's copy.",
    },
    "catalog.empty": {"zh": "文件长度为 0", "en": "the file is 0 bytes long"},
    "catalog.copy_absent": {"zh": "{copy}，目前不存在", "en": "{copy}, not there at present"},
    "catalog.copy_unknown": {"zh": "位置未知", "en": "location unknown"},
    "catalog.unwritable": {
        "zh": "无法写入目录数据库 {path}（{detail}）。请检查：文件和状态文件夹的属主与权限、磁盘是否只读挂载、文件是否设了不可变属性（lsattr 查看，chattr -i 去除），然后重试。",
        "en": "cannot write the catalog {path} ({detail}). Check the owner and permissions of the file and the state folder, whether the disk is mounted read-only, and whether the file is immutable (lsattr; chattr -i clears it), then retry.",
    },
    "catalog.copy_kept": {
        "zh": "镜像盘上的目录库副本 {copy} 记录的历史比当前目录库 {path} 多（{reason}），所以没有用当前目录库覆盖它。若状态文件夹是从旧备份放回的，或在丢失后重新初始化过：请停止服务，运行 `dangan init --adopt` 取回副本中的历史（当前目录库移到一旁保留）。",
        "en": "the catalog copy on the mirror disk {copy} holds history the catalog {path} lacks ({reason}), so it was not overwritten. If the state folder was put back from an old backup, or initialised anew after a loss: stop the service and run `dangan init --adopt` to take the history back from the copy (the current catalog is set aside).",
    },
    "catalog.copy_kept.older": {"zh": "当前目录库是副本之前的状态", "en": "the catalog is an earlier state of the copy"},
    "catalog.copy_kept.lineage": {"zh": "副本属于另一份目录库", "en": "the copy is another catalog's history"},
    "alert.catalog_copy_kept": {"zh": "镜像盘上的目录库副本历史更多，未被覆盖：请运行 dangan init --adopt", "en": "the mirror's catalog copy holds more history and was kept: run dangan init --adopt"},
    "copy.catalog": {"zh": "目录数据库", "en": "catalog"},
    "copy.catalog_copy": {"zh": "镜像盘上的目录库副本", "en": "catalog copy on the mirror"},
    "audit.catalog_damaged": {
        "zh": "请先停止服务，再运行 `dangan init --adopt`，从镜像盘上的副本（{copy}）取回目录库",
        "en": "stop the service, then run `dangan init --adopt` to take the catalog back from the mirror's copy ({copy})",
    },
    "audit.catalog_copy_damaged": {"zh": "下次核对时重新写入副本", "en": "the copy is written anew at the next reconcile"},
    "init.catalog_set_aside": {"zh": "原目录库已移到 {path}。", "en": "The previous catalog was set aside as {path}. "},
    # --- h-offsite ---
    "config.want_finite": {
        "zh": "应为有限的数（不能是无穷大或 NaN）",
        "en": "must be a finite number (not infinity or NaN)",
    },
    "offsite.run_died": {
        "zh": "运行中途被中断（{detail}）；下次运行会补传未完成的部分",
        "en": "the run was cut short ({detail}); the next run ships what is left",
    },
    "offsite.no_hashes": {
        "zh": "合作单位的存储不提供校验和（rclone：{reason}），无法用 cryptcheck 逐个比对；"
              "已改为下载抽查并重新计算哈希（按 offsite.sample_share 的比例，每周换一批）。"
              "如需逐个比对，请让对方开启 md5sum/sha1sum，或把 offsite.verify 设为 sample。",
        "en": "the partner's storage offers no checksums (rclone: {reason}), so cryptcheck "
              "cannot compare the objects; a sample was downloaded and hashed instead "
              "(offsite.sample_share of them, another slice each week). To compare every "
              "object, have the partner enable md5sum/sha1sum, or set offsite.verify: sample.",
    },
    "manifest.misnamed": {
        "zh": "清单 {name} 不是运行 {expected} 的清单（其中是运行 {found} 的）："
              "该文件被替换或复制过，按它恢复会丢失文件。请核对合作单位处的清单（dangan backup "
              "--verify），并用 dangan backup --full 重新上传完整清单",
        "en": "inventory {name} is not run {expected}'s (it holds run {found}'s): the file was "
              "replaced or copied over, and restoring by it would drop files. Check the "
              "partner's inventories (dangan backup --verify) and ship a complete one again "
              "with dangan backup --full",
    },
    "offsite.manifest_differs": {
        "zh": "合作单位处的清单 {name} 与上传时不同（其中是运行 {found} 的清单）："
              "被替换或损坏，按它恢复会出错。请用 dangan backup --full 重新上传完整清单",
        "en": "the partner's inventory {name} is not what was shipped (it holds run "
              "{found}'s): replaced or damaged, a restore by it would go wrong. Ship a "
              "complete one again with dangan backup --full",
    },
    "restore.partner_older": {
        "zh": "合作单位处最新的清单是运行 {partner_run}，但本地目录（或其在镜像上的副本）"
              "记录了更新的成功运行 {known}：合作单位的存储可能被回滚或丢失了较新的数据，"
              "按它恢复会缺少文件。请先核对合作单位（dangan backup --verify）；"
              "如确要按合作单位现有的最新状态恢复，请加 --accept-older。",
        "en": "the partner's newest inventory is run {partner_run}, but the local catalog (or "
              "its copy on the mirror) knows a newer successful run, {known}: the partner's "
              "storage may have been rolled back or lost newer data, and a restore from it "
              "would miss files. Check the partner first (dangan backup --verify); to restore "
              "the newest state the partner has anyway, add --accept-older.",
    },
    "restore.older_accepted": {
        "zh": "注意：按合作单位现有的最新状态（运行 {partner_run}）恢复；本地记录的最新运行是 "
              "{known}，其后的变动不在其中。",
        "en": "note: restoring the newest state the partner has (run {partner_run}); the local "
              "catalog knows run {known}, and what changed after {partner_run} is not in this "
              "restore.",
    },
    "cli.restore.accept_older": {
        "zh": "合作单位的最新清单比本地记录的旧（被回滚）时，仍按合作单位现有的最新状态恢复",
        "en": "restore the newest state the partner has even when it is older than the runs "
              "the catalog knows (a rolled-back partner)",
    },
    "restore.occupied": {
        "zh": "目标位置已有另一个文件（内容不同），未覆盖；如确要替换，请加 --overwrite，"
              "或换一个空目录恢复",
        "en": "a different file already stands at the target; not overwritten. Add --overwrite "
              "to replace it, or restore into an empty folder",
    },
    "status.offsite_verify_failed": {
        "zh": "异地验证失败（{at}，运行 {run}）：{problems}。"
              "缺失或损坏的内容会在下次异地备份时优先补传；再次验证（dangan backup --verify）"
              "通过后此提示消失。",
        "en": "off-site verification failed ({at}, run {run}): {problems}. What is missing or "
              "damaged is shipped first by the next off-site run; this stays until a "
              "verification (dangan backup --verify) passes.",
    },
    "rclone.failed": {
        "zh": "{command} 失败：{reason}",
        "en": "{command} failed: {reason}",
    },
    "offsite.cryptcheck_failed": {
        "zh": "rclone cryptcheck 失败（退出码 {code}），且没有说明原因；请用 --log-level=INFO "
              "手动运行 rclone 查看",
        "en": "rclone cryptcheck failed (exit code {code}) without saying why; run rclone by "
              "hand with --log-level=INFO",
    },
    # --- h-write ---
    "restore.work_refused": {
        "zh": "恢复的记录文件夹或日志 {path} 不能安全写入（{detail}）：那里可能有指向别处的符号链接。"
              "请检查并删除它后重试；为免写到目标之外，本次未写入任何内容。",
        "en": "the restore's bookkeeping {path} cannot be written safely ({detail}): something there may be "
              "a symlink pointing elsewhere. Check and remove it, then try again; nothing was written, so "
              "that nothing lands outside the target.",
    },
    "restore.target_inside": {
        "zh": "恢复目标 {target} 位于{root_name} {root} 之内（或与之相同）。"
              "请恢复到档案、镜像和状态文件夹之外的空文件夹，例如另一块磁盘上的新文件夹。",
        "en": "the restore target {target} is inside (or is) the {root_name} {root}. Restore into an empty "
              "folder outside the archive, the mirror and the state folder, e.g. a new folder on another "
              "disk.",
    },
    "restore.root_archive": {"zh": "档案根目录", "en": "archive root"},
    "restore.root_mirror": {"zh": "镜像根目录", "en": "mirror root"},
    "restore.root_state": {"zh": "状态文件夹", "en": "state folder"},
    "restore.nothing_matched": {
        "zh": "没有可恢复的文件：{why}。请检查 --only 的路径（相对档案根目录）或 --at 的时刻。",
        "en": "nothing to restore: {why}. Check the --only paths (relative to the archive root) or the "
              "--at moment.",
    },
    "restore.nothing_matched_only": {"zh": "没有记录位于 {paths}", "en": "no record lies at {paths}"},
    "restore.nothing_matched_at": {
        "zh": "{at} 时档案中还没有记录", "en": "the archive held no record at {at}",
    },
    "restore.nothing_matched_empty": {"zh": "目录中没有任何记录", "en": "the catalog holds no record"},
    "restore.target_full": {
        "zh": "恢复目标 {target} 所在磁盘已满：还需约 {needed}（本次剩余 {remaining} 个文件）。"
              "已核验的 {done} 个文件已记入日志；请腾出空间（或换一块更大的磁盘）后"
              "用同样的命令重新运行，恢复会从中断处继续。",
        "en": "the disk of the restore target {target} is full: about {needed} more is needed ({remaining} "
              "files left). The {done} files verified so far are journaled; free space (or use a larger "
              "disk) and run the same command again: the restore resumes where it stopped.",
    },
    "state.lock_unsafe": {
        "zh": "无法安全打开锁文件 {path}（{detail}）：那里可能是指向别处的符号链接。请删除它后重试。",
        "en": "the lock file {path} cannot be opened safely ({detail}): it may be a symlink pointing "
              "elsewhere. Remove it and try again.",
    },
    "config.same_place_roots": {
        "zh": "{a}（{pa}）与 {b}（{pb}）实际指向同一处或一个在另一个里面（经符号链接或挂载解析后）。"
              "请把档案、镜像和状态文件夹放在互不包含的位置。",
        "en": "{a} ({pa}) and {b} ({pb}) really are the same place or one inside the other (after "
              "resolving symlinks and mounts). Put the archive, the mirror and the state folder where none "
              "contains another.",
    },
    # --- h-honest ---
    "job.spawn_failed": {
        "zh": "无法启动任务进程：{reason}",
        "en": "the job's process could not be started: {reason}",
    },
    "job.exit_code": {
        "zh": "任务进程以退出码 {code} 结束",
        "en": "the job's process ended with exit code {code}",
    },
    "job.first_run": {
        "zh": "任务「{job}」尚未运行过：现在运行第一次",
        "en": "job {job} has never run: running it now",
    },
    "job.missed": {
        "zh": "服务停止期间错过了任务「{job}」的时间：现在补做一次",
        "en": "job {job} missed its time while the service was down: running it once now",
    },
    "job.starting": {"zh": "开始任务「{job}」：dangan {args}", "en": "starting job {job}: dangan {args}"},
    # each alert kind in words, with its facts (status and the service's log)
    "alert_text.mirror_missing": {
        "zh": "镜像盘未挂载（{path} 下没有镜像标记文件）：请挂载镜像盘，服务会自动补齐",
        "en": ("mirror disk not mounted (no mirror marker under {path}): mount it; the service catches up "
               "by itself"),
    },
    "alert_text.mirror_write": {
        "zh": "写镜像失败：{reason}；{seconds} 秒后重试",
        "en": "mirror writes failing: {reason}; retrying in {seconds} s",
    },
    "alert_text.mirror_hung": {
        "zh": "镜像盘无响应（写 {path} 时卡住：{reason}）；暂停写镜像，待办已记入目录库",
        "en": ("mirror disk hung (stuck writing {path}: {reason}); mirror writes paused, work kept in the "
               "catalog"),
    },
    "alert_text.archive_missing": {
        "zh": "档案盘未就绪（{path} 下没有档案标记文件）：{pending} 个删除暂不执行；请检查档案盘是否挂载",
        "en": ("archive disk not ready (no archive marker under {path}): {pending} removals wait; check "
               "that the disk is mounted"),
    },
    "alert_text.deletions_held": {
        "zh": ("大批删除已暂停：{count} 个文件被删除（自 {since} 起），镜像上的副本保留。确认无误后运行 "
               "dangan mirror --confirm-deletes"),
        "en": ("mass deletion held: {count} files removed (since {since}); the mirror keeps them. If "
               "intended, run dangan mirror --confirm-deletes"),
    },
    "alert_text.primary_corrupt": {
        "zh": "档案盘上的文件内容损坏（未传到镜像）：{path}；请从镜像恢复该文件",
        "en": "silent corruption on the archive disk (not propagated): {path}; restore it from the mirror",
    },
    "alert_text.watch_shortfall": {
        "zh": ("{unwatched} 个文件夹未被监视（已监视 {watches} 个，上限 {limit}），改为定时核对；请调高 "
               "/proc/sys/fs/inotify/max_user_watches"),
        "en": ("{unwatched} folders not watched ({watches} watched, limit {limit}); reconciled on a timer "
               "instead; raise /proc/sys/fs/inotify/max_user_watches"),
    },
    "alert_text.watch_limit_near": {
        "zh": ("文件夹数 {folders} 接近 inotify 监视上限 {limit}；请调高 "
               "/proc/sys/fs/inotify/max_user_watches"),
        "en": ("{folders} folders, near the inotify watch limit {limit}; raise "
               "/proc/sys/fs/inotify/max_user_watches"),
    },
    "alert_text.reload_failed": {
        "zh": "新配置有误，仍按原配置运行：{detail}",
        "en": "new config invalid, the old one still runs: {detail}",
    },
    "alert_text.job": {
        "zh": "任务「{job}」失败：{reason}；{retry}后重试",
        "en": "job {job} failed: {reason}; retrying in {retry}",
    },
    "alert_text.other": {"zh": "{title}：{reason}", "en": "{title}: {reason}"},
    "alert.job": {"zh": "任务「{job}」失败", "en": "job {job} failed"},
    "alert.raised": {"zh": "告警：{text}", "en": "alert: {text}"},
    "alert.cleared": {"zh": "告警解除：{title}", "en": "alert cleared: {title}"},
    "note.inotify_overflow": {
        "zh": "inotify 事件队列溢出 {count} 次（自 {since} 起）：已安排完整核对，不会漏掉文件",
        "en": ("the inotify event queue overflowed {count} times (since {since}): a full reconcile is "
               "scheduled, nothing is missed"),
    },
    "duration.minutes": {"zh": "{value} 分钟", "en": "{value} min"},
    "duration.hours": {"zh": "{value} 小时", "en": "{value} h"},
    "status.pending_hint_running": {
        "zh": "（等这批删除完成后由服务执行；一次删除太多会被暂停，等待确认）",
        "en": (" (the service applies them once the batch is complete; a mass deletion is held for "
               "confirmation)"),
    },
    "status.pending_hint_stopped": {
        "zh": "（服务未运行：启动服务或运行 dangan mirror 后执行；一次删除太多会被暂停，等待确认）",
        "en": (" (the service is not running: start it or run dangan mirror; a mass deletion is held for "
               "confirmation)"),
    },
    "status.verification.ok": {"zh": "通过", "en": "passed"},
    "preflight.what.key": {"zh": "异地备份密钥", "en": "the off-site key"},
    "preflight.what.rclone_config": {"zh": "rclone 配置文件", "en": "the rclone config file"},
    "preflight.what.smtp_password": {"zh": "SMTP 密码文件", "en": "the SMTP password file"},
    "preflight.missing": {
        "zh": "服务不能启动：找不到{what} {path}。请在配置中改正路径，或把文件放到这里（权限 600）。",
        "en": ("the service cannot start: {what} {path} does not exist. Correct the path in the config, or "
               "put the file there (mode 600)."),
    },
    "preflight.denied": {
        "zh": ("服务不能启动：以用户 {user} 运行的服务无法读取{what} {path}（权限不足），"
               "以后的任务会因此失败。请执行：chown {user} {path} && chmod 600 {path}"),
        "en": ("the service cannot start: running as {user}, it cannot read {what} {path} (permission "
               "denied), so later jobs would fail. Run: chown {user} {path} && chmod 600 {path}"),
    },
    "preflight.other": {
        "zh": "服务不能启动：无法读取{what} {path}：{reason}。请在配置中改正路径。",
        "en": ("the service cannot start: cannot read {what} {path}: {reason}. Correct the path in the "
               "config."),
    },
    "preflight.is_directory": {"zh": "这是一个文件夹，不是文件", "en": "it is a folder, not a file"},
    "config.yaml.flow_sequence": {
        "zh": "从这里开始的方括号 [ … ] 没有闭合，或其中的项之间缺少逗号",
        "en": "the square brackets [ … ] opened here are not closed, or a comma is missing between items",
    },
    "config.yaml.flow_mapping": {
        "zh": "从这里开始的花括号 { … } 没有闭合，或其中的项之间缺少逗号",
        "en": "the braces { … } opened here are not closed, or a comma is missing between items",
    },
    "config.yaml.colon_in_value": {
        "zh": "这一行多了一个冒号：值里有冒号时请用引号把值括起来，键与冒号后要有空格",
        "en": ("an extra colon on this line: quote a value that holds a colon; put a space after the key's "
               "colon"),
    },
    "config.yaml.tab": {
        "zh": "这里用了制表符（Tab）缩进：YAML 只能用空格缩进",
        "en": "a tab is used for indenting here: YAML indents with spaces only",
    },
    "config.yaml.no_colon": {
        "zh": "这一行缺少冒号（应写成“键: 值”）",
        "en": "this line lacks its colon (write “key: value”)",
    },
    "config.yaml.unclosed_quote": {
        "zh": "从这里开始的引号没有闭合",
        "en": "the quote opened here is not closed",
    },
    "config.yaml.indent": {
        "zh": "这一行的缩进与上面同级的行不一致",
        "en": "this line is indented differently from the lines of its level above",
    },
    "config.yaml.alias": {
        "zh": "以 * 开头的值会被当作引用：请用引号把值括起来",
        "en": "a value starting with * is read as a reference: quote it",
    },
    "config.yaml.start_char": {
        "zh": "值以特殊字符（如 @ ` % 等）开头：请用引号把值括起来",
        "en": "a value starts with a special character (such as @ ` %): quote it",
    },
    "config.yaml.other": {
        "zh": "这里的写法不符合 YAML 语法（请对照 dangan init 生成的配置文件检查）",
        "en": "this is not valid YAML here (compare with the file dangan init writes)",
    },
    "config.yaml.unreadable_char": {
        "zh": "文件中有不可打印的控制字符",
        "en": "the file holds a non-printable control character",
    },
    "log.watching": {"zh": "dangan 开始监视 {path}", "en": "dangan is watching {path}"},
    "log.stopped": {
        "zh": "dangan 已停止（正在复制的文件已完成并登记）",
        "en": "dangan stopped (the copies in flight were finished and registered)",
    },
    "log.swept": {
        "zh": "清理了中断的复制留下的 {count} 个临时文件",
        "en": "swept {count} temp files left by an interrupted copy",
    },
    "log.reload_deferred": {
        "zh": "镜像盘无响应：重新加载配置推迟到它恢复之后",
        "en": "reload deferred until the hung mirror disk answers",
    },
    "log.reload_refused": {
        "zh": "拒绝重新加载，仍按原配置运行：{detail}",
        "en": "reload refused, the running configuration stays: {detail}",
    },
    "log.reloading": {"zh": "重新加载配置 {path}", "en": "reloading configuration from {path}"},
    "log.reconciled": {
        "zh": ("完整核对：{folders} 个文件夹中 {files} 个文件，新增或修改 {arrived}，删除 {gone}，移动 "
               "{moved}，用时 {seconds} 秒"),
        "en": ("reconcile: {files} files in {folders} folders, {arrived} arrived/changed, {gone} gone, "
               "{moved} moved, {seconds} s"),
    },
    "log.job_done": {"zh": "任务「{job}」完成", "en": "job {job} finished"},
    "log.offsite_failed": {
        "zh": "异地备份 {run} 失败：{reason}",
        "en": "off-site run {run} failed: {reason}",
    },
    "config.whole": {"zh": "目录设置", "en": "folders"},
    "config.header_options": {
        "zh": "dangan init 的参数有 {count} 处问题（配置文件尚未写入）：",
        "en": "the options of dangan init have {count} problem(s) (no config file was written):",
    },
    "error.os": {
        "zh": "无法使用 {path}：{reason}。请检查这个路径后重试。",
        "en": "cannot use {path}: {reason}. Check this path and retry.",
    },
    "oserror.EEXIST": {"zh": "已经有同名的文件或文件夹", "en": "a file or folder of that name already exists"},
    "oserror.ENOTEMPTY": {"zh": "文件夹不是空的", "en": "the folder is not empty"},
    "oserror.EBUSY": {"zh": "正在被占用（例如是挂载点）", "en": "it is busy (a mount point, for example)"},
    "oserror.ENOENT": {"zh": "不存在", "en": "it does not exist"},
    "oserror.EACCES": {"zh": "权限不足", "en": "permission denied"},
    "oserror.EISDIR": {"zh": "这是一个文件夹，不是文件", "en": "it is a folder, not a file"},
    "oserror.ENOTDIR": {
        "zh": "路径中有一部分是文件而不是文件夹",
        "en": "a part of the path is a file, not a folder",
    },
    "oserror.ENOSPC": {"zh": "磁盘已满（或超出配额）", "en": "the disk is full (or the quota is used up)"},
    "oserror.EROFS": {"zh": "磁盘是只读的", "en": "the disk is read-only"},
    "oserror.EIO": {
        "zh": "磁盘读写出错（硬件或连接故障）",
        "en": "a disk input/output error (hardware or cable)",
    },
    "oserror.ELOOP": {
        "zh": "路径中有符号链接，出于安全不跟随",
        "en": "the path holds a symbolic link, not followed for safety",
    },
    "oserror.ENAMETOOLONG": {"zh": "文件名过长", "en": "the name is too long"},
    "offsite.run_partial": {
        "zh": ("异地备份已运行，但副本不完整（{kind}，编号 {run}）：本次传送 {files} 个文件、{bytes} 字节；"
               "清单共 {total} 个文件。清单：{manifest}"),
        "en": ("off-site run finished, but the copy is incomplete ({kind}, id {run}): shipped {files} "
               "files, {bytes} bytes; the inventory lists {total} files. Manifest: {manifest}"),
    },
    "offsite.incomplete": {
        "zh": "档案中有 {count} 个文件不在这份异地副本中：它们还没有复制到镜像盘（异地备份从镜像盘传送）。",
        "en": ("{count} files of the archive are missing from this off-site copy: they are not on the "
               "mirror disk yet (the off-site copy ships from the mirror). "),
    },
    "offsite.incomplete_service": {
        "zh": "正在运行的服务正在复制它们；稍后再运行 dangan backup（或等下次自动备份）。",
        "en": ("The running service is copying them; run dangan backup again shortly (or wait for the next "
               "scheduled run)."),
    },
    "offsite.incomplete_alone": {
        "zh": "请运行 dangan mirror 查看原因（镜像盘是否可用、文件是否可读），处理后再运行 dangan backup。",
        "en": ("Run dangan mirror to see why (is the mirror disk there, are the files readable), then "
               "dangan backup again."),
    },
    "offsite.caught_up": {
        "zh": "先核对了档案目录：新增或修改 {arrived} 个、删除 {gone} 个、移动 {moved} 个，已复制到镜像盘。",
        "en": ("reconciled the archive first: {arrived} new or changed, {gone} removed, {moved} moved, now "
               "on the mirror."),
    },
    "oserror.not_utf8": {
        "zh": "文件不是 UTF-8 编码（第 {position} 个字节处）：请用 UTF-8 编码另存该文件",
        "en": "the file is not UTF-8 (at byte {position}): save it as UTF-8",
    },
    "status.verification.failed": {"zh": "未通过（{reason}）", "en": "failed ({reason})"},
    # --- lead ---
    "catalog.symlink": {
        "zh": "{path} 是符号链接：dangan 不会通过它读写目录数据库（那会写到别处）。请删除这个链接，把真正的目录库文件放回原处（或运行 dangan init --adopt 从镜像盘上的副本取回）。",
        "en": "{path} is a symlink: dangan does not read or write the catalog through it (that would write elsewhere). Remove the link and put the real catalog file back (or run dangan init --adopt to take the mirror's copy).",
    },
    # --- media ---
    "cli.media.help": {"zh": "脱机备份（移动硬盘、光盘）：写入（write）、检测（check）、登记簿（list）", "en": "offline sets on removable disks and discs: write, check, list"},
    "cli.media.write.help": {"zh": "把上次以来新增或修改的档案（--full：全部）连同目录数据写成一套脱机备份（BagIt 格式），从目标读回核验后登记", "en": "write what changed since the last set (--full: everything), with the catalog, as an offline set (a BagIt bag); read back and verified before it is registered"},
    "cli.media.check.help": {"zh": "载体检测：对照备份自带的清单和目录库核验一套脱机备份，并登记结果", "en": "carrier check: verify a set against its own manifest and the catalog, and register the result"},
    "cli.media.list.help": {"zh": "列出脱机备份登记簿（到期需检测的注明）", "en": "show the register of offline sets (those due for a check marked)"},
    "cli.media.to": {"zh": "写到这个文件夹（已挂载的移动硬盘）；--copies 2 时给两次", "en": "write into this folder (a mounted removable disk); twice with --copies 2"},
    "cli.media.iso": {"zh": "把光盘映像（ISO 9660 + UDF）写到这个文件夹，用任何刻录软件刻盘", "en": "write disc images (ISO 9660 + UDF) into this folder, to burn with any burner software"},
    "cli.media.media": {"zh": "光盘类型（决定每张映像的容量）：bd25 或 dvd", "en": "disc type (the capacity of each image): bd25 or dvd"},
    "cli.media.full": {"zh": "写全部档案，而不只是上次以来的变化", "en": "write every record, not only what changed since the last set"},
    "cli.media.label": {"zh": "这套备份的标签（写在载体上，默认 DG 加时间）", "en": "the set's label (written on the carrier; default DG and the time)"},
    "cli.media.role": {"zh": "用途：使用（供查询利用）或 封存", "en": "role: 使用 (for use) or 封存 (sealed)"},
    "cli.media.copies": {"zh": "一式几份：2 表示同时写一套“使用”、一套“封存”（给两个目标）", "en": "copies: 2 writes a 使用 and a 封存 set in one go (two targets)"},
    "cli.media.capacity": {"zh": "最多写这么多（如 500G、4.7G；默认为目标的剩余空间或光盘容量）", "en": "write at most this much (e.g. 500G, 4.7G; default: the target's free space or the disc's capacity)"},
    "cli.media.kept_at": {"zh": "载体存放的地点（记入登记簿）", "en": "where the carrier is kept (for the register)"},
    "cli.media.from": {"zh": "要检测的备份：一套备份的文件夹、光盘映像，或放着它们的文件夹（已挂载的载体）", "en": "the set to check: a set's folder, a disc image, or a folder (a mounted carrier) holding them"},
    "cli.media.sample": {"zh": "只抽检这个比例的文件（如 0.1；默认全部）", "en": "check only this share of the records (e.g. 0.1; default: all)"},
    "cli.restore.one_moment": {"zh": "--at 只能给一个时刻（收到：{moments}）；脱机备份的位置请写存在的文件夹或映像文件", "en": "--at takes one moment (got: {moments}); name a set by an existing folder or image file"},
    "cli.restore.set": {"zh": "--from media：脱机备份所在（文件夹或光盘映像，可给多个）", "en": "--from media: where the offline sets are (folders or disc images, several allowed)"},
    "drill.source.media": {"zh": "脱机备份", "en": "offline sets"},
    "manifest.kind.media": {"zh": "脱机备份", "en": "offline set"},
    "media.no_action": {"zh": "请给出要做的事：dangan media write、dangan media check 或 dangan media list（--help 查看用法）。", "en": "say what to do: dangan media write, check or list (see --help)."},
    "media.one_kind": {"zh": "请给出 --to（移动硬盘上的文件夹）或 --iso（光盘映像的文件夹），二者选一。", "en": "give either --to (a folder on a removable disk) or --iso (a folder for disc images), not both."},
    "media.targets_for_copies": {"zh": "--copies {copies} 需要 {copies} 个目标，给了 {targets} 个：一式两份请分别写到两块载体（--to 甲 --to 乙）。", "en": "--copies {copies} needs {copies} targets, {targets} given: write the two copies to two carriers (--to A --to B)."},
    "media.bad_label": {"zh": "标签“{label}”不能用：标签要写在载体上并作文件夹名，不能含 / 或 \\ 或控制字符、不能以点开头，最长 100 字节。", "en": "the label \"{label}\" cannot be used: it names a folder on the carrier (no / or \\ or control characters, not starting with a dot, at most 100 bytes)."},
    "media.label_taken": {"zh": "登记簿里已有标签为“{label}”的备份：请换一个标签（--label）。", "en": "the register already has a set labelled \"{label}\": choose another label (--label)."},
    "media.bad_capacity": {"zh": "容量“{value}”无效：写成字节数或带单位，如 500G、4.7G、700M。", "en": "invalid capacity \"{value}\": give bytes or a size such as 500G, 4.7G, 700M."},
    "media.bad_sample": {"zh": "抽检比例“{value}”无效：应大于 0、不超过 1，如 0.1。", "en": "invalid share \"{value}\": above 0 and at most 1, e.g. 0.1."},
    "media.exists": {"zh": "{path} 已经存在（文件、文件夹或符号链接）：dangan 不会覆盖或经由它写入。请换一个标签（--label），或确认后移走它。", "en": "{path} already exists (a file, folder or symlink): dangan neither overwrites it nor writes through it. Choose another label (--label) or move it away."},
    "media.too_big": {"zh": "映像有 {size} 字节，超过光盘容量 {capacity} 字节：刻不下，请用更大的光盘或 --capacity 调小", "en": "the image is {size} bytes, more than the disc's {capacity}: it will not burn; use a larger disc or a smaller --capacity"},
    "media.bag_description": {"zh": "dangan 脱机备份（{role}），按 BagIt（RFC 8493）封装，无需 dangan 即可读取核验", "en": "dangan offline set ({role}), a BagIt bag (RFC 8493): readable and verifiable without dangan"},
    "media.sheet_register": {"zh": "脱机备份清单（登记用）", "en": "Offline set inventory (for the register)"},
    "media.sheet_title": {"zh": "{school} 档案脱机备份", "en": "{school} archive offline backup"},
    "media.sheet_disc": {"zh": "标签：{label}　用途：{role}　介质：{medium}　文件数：{records}　大小：{bytes} 字节　写入：{written}　读回核验：{ok}", "en": "label: {label}  role: {role}  medium: {medium}  records: {records}  size: {bytes} bytes  written: {written}  read back: {ok}"},
    "media.verified": {"zh": "通过", "en": "passed"},
    "media.not_verified": {"zh": "未通过", "en": "failed"},
    "media.nothing_new": {"zh": "自上一套“{role}”备份以来没有新增或修改的档案：没有写入新的一套（全部重写请加 --full）。", "en": "nothing was added or changed since the last {role} set: no set written (--full writes everything)."},
    "media.written": {"zh": "已写入并读回核验：{label}（{role}）在 {where}，{records} 个文件，{bytes}", "en": "written and read back: {label} ({role}) at {where}, {records} records, {bytes}"},
    "media.set_failed": {"zh": "{label} 读回核验未通过，没有登记（请换一块载体重写）：", "en": "{label} failed its read-back and was not registered (write it again to another carrier):"},
    "media.left": {"zh": "放不下，留待下一张载体：{count} 个文件，{bytes}（已按 永久、主盘损坏、最新 的顺序优先写入其余的）。请换一张载体再运行 dangan media write。", "en": "did not fit, left for the next carrier: {count} records, {bytes} (the rest went first: 永久, damaged on the primary, newest). Run dangan media write again with another carrier."},
    "media.unreadable": {"zh": "有 {count} 个文件在镜像盘和主盘上都与目录库的哈希不符，没有写入（请运行 dangan audit 查明并修复）：", "en": "{count} records match the catalog's hash neither on the mirror nor on the primary and were not written (run dangan audit):"},
    "media.not_ready": {"zh": "还有 {count} 个文件尚未复制到镜像盘，没有写入这套备份（下次写入时补上）。", "en": "{count} records are not on the mirror yet and are not in this set (the next set takes them)."},
    "media.sheet_at": {"zh": "光盘标签单（打印后随盘保存）：{path}", "en": "the discs' label sheet (print it and keep it with the discs): {path}"},
    "media.all_written": {"zh": "完成：应写的 {count} 个文件全部写入并核验。", "en": "done: all {count} records written and verified."},
    "media.no_sets": {"zh": "{path} 里没有脱机备份（既不是一套备份的文件夹，也没有 .iso 映像）：请检查载体是否已挂载、路径是否正确。", "en": "{path} holds no offline set (neither a set's folder nor .iso images): check that the carrier is mounted and the path."},
    "media.not_registered": {"zh": "标签为“{label}”的备份不在本目录库的登记簿里（别处写的，或目录库已更换）", "en": "the set labelled \"{label}\" is not in this catalog's register (written elsewhere, or the catalog was replaced)"},
    "media.differs": {"zh": "{path}：备份中的内容与登记簿记载的不同", "en": "{path}: the set holds other content than the register says"},
    "media.check_ok": {"zh": "{label}（{where}）检测通过：核验 {checked} 个文件（共 {records} 个），没有问题。", "en": "{label} ({where}) passed: {checked} of {records} records verified, no problems."},
    "media.check_failed": {"zh": "{label}（{where}）检测未通过：核验 {checked} 个文件（共 {records} 个），发现 {problems} 个问题。请用另一份（使用/封存）重写一套，并检查这块载体：", "en": "{label} ({where}) FAILED: {checked} of {records} records verified, {problems} problems. Write a new set from the other copy and inspect this carrier:"},
    "media.none": {"zh": "登记簿里还没有脱机备份（用 dangan media write 写入第一套）。", "en": "no offline set registered yet (dangan media write writes the first)."},
    "media.list_header": {"zh": "标签\t介质\t用途\t存放地点\t文件数\t大小\t写入\t上次检测\t结果", "en": "label\tmedium\trole\tkept at\trecords\tsize\twritten\tlast checked\tresult"},
    "media.medium.disk": {"zh": "移动硬盘", "en": "removable disk"},
    "media.medium.bd25": {"zh": "蓝光光盘 25G", "en": "BD-R 25 GB"},
    "media.medium.dvd": {"zh": "DVD 光盘", "en": "DVD"},
    "media.result.ok": {"zh": "正常", "en": "ok"},
    "media.result.failed": {"zh": "未通过", "en": "failed"},
    "media.due": {"zh": "到期待检", "en": "check due"},
    "media.restore_needs_set": {"zh": "--from media 需要用 --set 指明脱机备份所在（挂载的文件夹或光盘映像）。", "en": "--from media needs --set: where the offline sets are (mounted folders or disc images)."},
    "reason.media_failed": {"zh": "有 {count} 套脱机备份的载体检测未通过：请用另一份重写一套（见“脱机备份”）", "en": "{count} offline sets failed their carrier check: write a new set from the other copy (see Offline sets)"},
    "reason.media_due": {"zh": "有 {count} 套脱机备份到期需做载体检测：运行 dangan media check --from 载体", "en": "{count} offline sets are due for their carrier check: run dangan media check --from CARRIER"},
    "report.media": {"zh": "脱机备份（载体检测）", "en": "Offline sets (carrier checks)"},
    "report.media_line": {"zh": "  {label}（{medium}，{role}，存放于 {kept_at}）：{state}，上次检测或写入 {last}", "en": "  {label} ({medium}, {role}, kept at {kept_at}): {state}, last checked or written {last}"},
    "report.media_fine": {"zh": "没有到期待检或检测未通过的脱机备份。", "en": "no offline set is due for its check or failed it."},
    "report.col.label": {"zh": "标签", "en": "label"},
    "report.col.medium": {"zh": "介质", "en": "medium"},
    "report.col.role": {"zh": "用途", "en": "role"},
    "report.col.kept_at": {"zh": "存放地点", "en": "kept at"},
    "report.col.last_check": {"zh": "上次检测或写入", "en": "last checked or written"},
    "media.target_inside": {"zh": "脱机备份的目标 {target} 位于{root_name} {root} 之内（或与之相同）：请写到另一块载体（移动硬盘）或档案、镜像和状态文件夹之外的文件夹。", "en": "the offline set's target {target} is inside (or is) the {root_name} {root}: write to another carrier (a removable disk) or a folder outside the archive, mirror and state folders."},
    "media.bad_image": {"zh": "{path} 不是可读的光盘映像（{detail}）：请给出 dangan media write --iso 写的 .iso 文件，或一套备份的文件夹。", "en": "{path} is not a readable disc image ({detail}): give an .iso written by dangan media write --iso, or a set's folder."},
    "media.no_copy": {"zh": "给出的脱机备份里都没有这个文件（请加上存有它的那套备份）", "en": "none of the given sets holds this record (add the set that does)"},
    # --- assess (issue 17.5–6: department digests and the 过程考核 scorecard) ---
    "config.contacts_department": {"zh": "report.department_contacts 中的 {names} 不是配置里的处室（departments）：请改成处室文件夹的名称", "en": "{names} in report.department_contacts is not a configured department (departments): use the department folder's name"},
    "config.bad_address": {"zh": "{item} 不是一个邮件地址：每项只写一个地址，如 office@school.example", "en": "{item} is not one mail address: one address per item, e.g. office@school.example"},
    "assessment.title": {"zh": "档案工作过程考核（各处室）", "en": "Records process assessment (per department)"},
    "assessment.no_school": {"zh": "（未配置学校名称 school）", "en": "(no school name configured: school)"},
    "assessment.period": {"zh": "考核期间：{period}", "en": "period: {period}"},
    "assessment.generated": {"zh": "生成时间：{at}", "en": "made: {at}"},
    "assessment.sheet": {"zh": "过程考核", "en": "assessment"},
    "assessment.per_100": {"zh": "每百件 {value}", "en": "{value} per 100"},
    "assessment.col.department": {"zh": "处室", "en": "department"},
    "assessment.col.records": {"zh": "期末文件数", "en": "records at end"},
    "assessment.col.filed": {"zh": "期内收进", "en": "filed in period"},
    "assessment.col.open": {"zh": "未整改问题", "en": "open findings"},
    "assessment.col.open_rules": {"zh": "未整改问题（按规则）", "en": "open findings by rule"},
    "assessment.col.fixed": {"zh": "期内整改", "en": "fixed in period"},
    "assessment.col.median": {"zh": "整改天数中位数", "en": "median days to fix"},
    "assessment.col.clean": {"zh": "无问题率", "en": "clean share"},
    "assessment.col.on_time": {"zh": "照片视频按时移交率", "en": "photos/video on time"},
    "assessment.col.described": {"zh": "照片文件夹说明率", "en": "photo folders described"},
    "assessment.col.score": {"zh": "得分", "en": "score"},
    "assessment.text_line": {"zh": "  {department}：得分 {score}；无问题率 {clean}（{clean_of}）；照片视频按时移交率 {on_time}（{on_time_of}）；照片文件夹说明率 {described}（{described_of}）；期末文件 {records} 件，期内收进 {filed} 件；未整改问题 {open} 个（每百件 {open_per_100}）：{rules}；期内整改 {fixed} 个，整改天数中位数 {median}", "en": "  {department}: score {score}; clean share {clean} ({clean_of}); photos/video on time {on_time} ({on_time_of}); photo folders described {described} ({described_of}); {records} records at end, {filed} filed in period; {open} open findings ({open_per_100} per 100): {rules}; {fixed} fixed in period, median {median} days to fix"},
    "assessment.formula": {"zh": "得分 = 100 ×（{clean} × 无问题率 + {on_time} × 照片视频按时移交率 + {described} × 照片文件夹说明率）÷ 参与计算的权重之和。无问题率 = 期末没有未整改问题的文件数 ÷ 期末文件数；照片视频按时移交率 = 期内收进、名称以日期开头的活动照片和视频中，不晚于名称日期后一个月（次月同日）到达档案的比例（扫描件不算活动记录）；照片文件夹说明率 = 期内收进照片或视频、只存放照片视频及其说明的文件夹中，附有完整文字说明（时间、地点、参加人、结果）的比例。某项没有可计数的对象时记“—”，不参与计算。用比例而不用件数，大小不同的处室才能公平比较；整改天数中位数只列出，不计入得分。", "en": "score = 100 × ({clean} × clean share + {on_time} × photos/video on time + {described} × photo folders described) ÷ the sum of the weights used. Clean share = records without an open finding at the period's end ÷ records at the end; photos/video on time = of the activity photos and videos filed in the period whose name starts with a date, the share that reached the archive no later than one month after that date (the same day of the next month; scans are not activity records); photo folders described = of the folders of only photos/videos and their description that received one in the period, the share with a complete description (time, place, participants, result). A rate with nothing to count shows “—” and is left out. Rates, not counts, so that large and small departments compare fairly; the median days to fix is shown, not scored."},
    "assessment.and": {"zh": "，", "en": ", "},
    "assessment.period_and_range": {"zh": "--period 不能与 --from/--to 同时使用：请只给出其中一种", "en": "--period cannot be combined with --from/--to: give one of them"},
    "assessment.bad_range": {"zh": "期间的结束日 {last} 早于开始日 {first}：请检查 --from 和 --to", "en": "the period ends ({last}) before it starts ({first}): check --from and --to"},
    "assessment.bad_day": {"zh": "{option} 的值 {value} 不是日期：请写成 YYYY-MM-DD，如 2026-09-01", "en": "{option} {value} is not a date: write YYYY-MM-DD, e.g. 2026-09-01"},
    "assessment.bad_period": {"zh": "--period 的值 {value} 无效：请写成年份 2026、月份 2026-11 或季度 2026-Q4", "en": "--period {value} is invalid: write a year 2026, a month 2026-11 or a quarter 2026-Q4"},
    "assessment.written": {"zh": "已写出过程考核表：{path}", "en": "assessment written: {path}"},
    "assessment.section": {"zh": "各处室过程考核（{period}，本年度至今）", "en": "Process assessment per department ({period}, this year so far)"},
    "cli.export.help": {"zh": "导出档案登记表（目录、移交清册、统计、鉴定、过程考核）", "en": "export the registers (directory, transfer, statistics, appraisal, assessment)"},
    "cli.export.assessment.help": {"zh": "各处室的过程考核表：期内收进、未整改问题、整改天数、照片视频按时移交率、照片说明率和得分（公式印在表下）", "en": "the department scorecard: records filed, open findings, days to fix, photos/video on time, photo folders described and a score (formula under the table)"},
    "cli.export.period": {"zh": "期间：年份 2026、月份 2026-11 或季度 2026-Q4（默认：今年 1 月 1 日至今天）", "en": "period: a year 2026, a month 2026-11 or a quarter 2026-Q4 (default: this year to today)"},
    "cli.export.from": {"zh": "开始日期 YYYY-MM-DD（含）", "en": "first day YYYY-MM-DD (inclusive)"},
    "cli.export.to": {"zh": "结束日期 YYYY-MM-DD（含）", "en": "last day YYYY-MM-DD (inclusive)"},
    "cli.export.format": {"zh": "格式：xlsx、html 或 json", "en": "format: xlsx, html or json"},
    "cli.export.out": {"zh": "写到这个文件，或这个文件夹下（默认：state_dir/exports/ 下按期间命名；json 不给时打印到标准输出）", "en": "write to this file, or into this folder (default: under state_dir/exports/, named by period; json without it goes to standard output)"},
    "cli.report.digests": {"zh": "各处室只收到本处室未整改问题的摘要：不加 --send 时写到 --out 文件夹供预览，加 --send 时立即发送给 report.department_contacts 中的联系人", "en": "each department's digest of its own open findings: written to --out for a preview, or mailed now to report.department_contacts with --send"},
    "cli.report.department": {"zh": "只处理这个处室（可重复）", "en": "only this department (repeatable)"},
    "digest.title": {"zh": "{department} 待整改的档案问题", "en": "{department}: records findings to fix"},
    "digest.subject": {"zh": "[{school}] {department} 待整改的档案问题：{count} 个", "en": "[{school}] {department}: {count} records finding(s) to fix"},
    "digest.summary": {"zh": "本处室有 {count} 个问题尚未整改，最早发现的排在前面。请按“改正方法”处理，改好后 dangan 会自动核对并从清单中去掉。", "en": "{count} finding(s) of your department are open, oldest first. Fix each as its hint says; dangan checks again and drops what is fixed."},
    "digest.nothing": {"zh": "本处室目前没有待整改的问题。", "en": "your department has no open findings."},
    "digest.item": {"zh": "{number}. {path}（已 {days} 天，{since} 发现；{title} {rule}，{severity}）", "en": "{number}. {path} ({days} days open, found {since}; {title} {rule}, {severity})"},
    "digest.footer": {"zh": "这封邮件只列本处室的文件；其他处室的情况不会发给您。有疑问请联系档案室。", "en": "This mail lists only your department's files; other departments' are never sent to you. Questions: the archive office."},
    "digest.col.number": {"zh": "序号", "en": "no."},
    "digest.col.path": {"zh": "文件或文件夹", "en": "file or folder"},
    "digest.col.problem": {"zh": "问题", "en": "finding"},
    "digest.col.days": {"zh": "已发现天数", "en": "days open"},
    "digest.col.hint": {"zh": "改正方法", "en": "what to do"},
    "digest.unknown_department": {"zh": "{names} 不是配置里的处室（departments）：请写处室文件夹的名称，如 01办公室", "en": "{names} is not a configured department (departments): write the department folder's name, e.g. 01办公室"},
    "digest.none_configured": {"zh": "没有配置处室联系人（report.department_contacts），也没有用 --department 指定处室：没有可处理的摘要。", "en": "no department contacts configured (report.department_contacts) and no --department given: no digest to make."},
    "digest.written": {"zh": "已写出 {count} 个处室的摘要（预览，未发送）：{out}", "en": "digests of {count} department(s) written (preview, not mailed): {out}"},
    "digest.sent": {"zh": "处室摘要：{department} 已发送给 {contacts} 位联系人（{count} 个问题）", "en": "digest: {department} mailed to {contacts} contact(s) ({count} findings)"},
    "digest.empty": {"zh": "处室摘要：{department} 没有待整改的问题，未发送（report.digest_when_empty: false）", "en": "digest: {department} has no open findings; not mailed (report.digest_when_empty: false)"},
    "digest.no_contacts": {"zh": "处室摘要：{department} 没有配置联系人（report.department_contacts），未发送", "en": "digest: {department} has no contacts (report.department_contacts); not mailed"},
    "digest.failed": {"zh": "处室摘要：{department} 发送失败：{error}。请检查 SMTP 设置和网络后重新运行 dangan report --digests --send", "en": "digest: mailing {department} failed: {error}. Check the SMTP settings and the network, then run dangan report --digests --send"},
    "digest.elsewhere": {"zh": "另一处室的一个文件（详情请问档案室）", "en": "a file of another department (ask the archive office)"},
    "digest.no_smtp": {"zh": "没有配置 SMTP 服务器（report.smtp_host），处室摘要未发送。", "en": "no SMTP server configured (report.smtp_host); the department digests were not mailed."},
    # --- registers (dangan export) ---
    "cli.export.directory": {"zh": "归档文件目录（DA/T 22-2015）：按年度、保管期限、处室，再按类别和任务项分表", "en": "the file directory (DA/T 22-2015), by year, retention and department, then category and task item"},
    "cli.export.transfer": {"zh": "移交清册：一个处室在一段时间内（或一个任务项）移交的全部文件，含哈希与签字栏", "en": "the transfer register of one department for a period (or a task item), with hashes and signature lines"},
    "cli.export.statistics": {"zh": "登记统计：按处室和月份统计收进、修改、移动、移出、恢复的件数和字节数（来自目录库的登记簿）", "en": "registration statistics per department and month from the ledger: received, changed, moved, moved out, restored"},
    "cli.export.appraisal": {"zh": "鉴定清单：保管期限已满的文件，按处室列出，供鉴定审批（dangan 从不删除文件）", "en": "the appraisal list: records whose retention has ended, by department (dangan never deletes them)"},
    "cli.export.formats": {"zh": "格式：xlsx、html、json、pdf（默认按 --out 的扩展名，没有 --out 时为 json）", "en": "format: xlsx, html, json, pdf (default: from --out's extension, json without --out)"},
    "cli.export.file": {"zh": "写到这个文件（原子写入）；不给时 json/html 输出到标准输出", "en": "write to this file (atomically); without it json/html go to standard output"},
    "cli.export.department": {"zh": "只导出这个处室（一级文件夹名，如 01办公室）", "en": "only this department (its level-1 folder name)"},
    "cli.export.since": {"zh": "起始日期（含），按收进档案的时间", "en": "first day (included), by the time records arrived"},
    "cli.export.until": {"zh": "截止日期（含），按收进档案的时间", "en": "last day (included), by the time records arrived"},
    "cli.export.category": {"zh": "只导出这个类别（二级文件夹名，如 A标准建设）", "en": "only this category (its level-2 folder name)"},
    "cli.export.year": {"zh": "只导出这个年度", "en": "only this year"},
    "cli.export.task": {"zh": "只导出这个任务项（三级文件夹名，或“类别/任务项”）", "en": "only this task item (its level-3 folder name, or category/task)"},
    "export.written": {"zh": "已写出 {path}（{format}）", "en": "wrote {path} ({format})"},
    "export.unknown_department": {
        "zh": "没有名为“{department}”的处室。配置中的处室：{known}",
        "en": "no department named \"{department}\". Departments in the config: {known}",
    },
    "export.unknown_extension": {
        "zh": "无法从 {path} 的扩展名看出格式：请用 --format 指定（{formats}）",
        "en": "cannot tell the format from {path}'s extension: say --format ({formats})",
    },
    "export.needs_out": {"zh": "{format} 格式须写到文件：请加 --out 文件名", "en": "{format} must be written to a file: add --out FILE"},
    "export.bad_day": {"zh": "日期 {value} 无效，应写成 YYYY-MM-DD", "en": "invalid date {value}: write YYYY-MM-DD"},
    "export.transfer_scope": {
        "zh": "移交清册须指明范围：--from/--to（收进日期）或 --task（任务项）",
        "en": "the transfer register needs a scope: --from/--to (arrival dates) or --task (a task item)",
    },
    "register.school": {"zh": "学校", "en": "School"},
    "register.made_at": {"zh": "制表时间", "en": "Made"},
    "register.no_chromium": {
        "zh": "本机没有 Chromium，无法打印 PDF：请安装 chromium（apt-get install chromium），或导出 html 后用浏览器打印",
        "en": "no Chromium on this machine to print the PDF: install chromium, or export html and print it from a browser",
    },
    "register.pdf_failed": {"zh": "Chromium 没有打印出 PDF：{detail}", "en": "Chromium printed no PDF: {detail}"},
    "directory.title": {"zh": "归档文件目录", "en": "File directory (归档文件目录)"},
    "directory.codes_missing": {
        "zh": "档号无法写全，缺少：{what}。请在配置文件的 registers 一节中填写后重新导出。",
        "en": "the archival codes cannot be written, missing: {what}. Fill them in the config's registers section and export again.",
    },
    "directory.missing.fonds_id": {"zh": "全宗号（registers.fonds_id）", "en": "the fonds number (registers.fonds_id)"},
    "directory.missing.category_code": {"zh": "门类代码（registers.category_code）", "en": "the class code (registers.category_code)"},
    "directory.missing.department_codes": {
        "zh": "机构代码（registers.department_codes）：{departments}",
        "en": "department codes (registers.department_codes): {departments}",
    },
    "directory.code_lacks": {"zh": "缺{what}", "en": "missing {what}"},
    "directory.provisional": {
        "zh": "{year} 年度尚未结束：本年度的件号是临时的，年度结束后第一次导出时固定，以后收进的文件排在最后。",
        "en": "the year {year} has not ended: its item numbers are provisional until the first export after it ends; later arrivals are numbered after them.",
    },
    "directory.date_from.exif": {"zh": "日期取自照片的拍摄时间（EXIF）", "en": "date from the photo's EXIF"},
    "directory.date_from.mtime": {"zh": "日期取自文件的修改时间（文件名中没有日期）", "en": "date from the file's time (none in its name)"},
    "transfer.title": {"zh": "档案移交清册", "en": "Transfer register (移交清册)"},
    "transfer.period": {"zh": "{since} 至 {until} 收进", "en": "arrived {since} to {until}"},
    "transfer.none": {"zh": "这个范围内没有收进任何文件。", "en": "no record arrived in this scope."},
    "transfer.count_bytes": {"zh": "{count} 件，{size} 字节", "en": "{count} records, {size} bytes"},
    "statistics.title": {"zh": "档案登记统计", "en": "Registration statistics (登记统计)"},
    "statistics.note": {
        "zh": "依据目录库的登记簿（只增不改）逐条统计；字节为各次事件所涉内容的大小。恢复含从镜像盘修复回档案目录的文件。",
        "en": "counted from the catalog's append-only ledger; bytes are the sizes of the content each event names. Restored includes records repaired back from the mirror.",
    },
    "appraisal.title": {"zh": "到期档案鉴定清单", "en": "Appraisal list (鉴定): retention ended"},
    "appraisal.never_deletes": {
        "zh": "保管期限从文件年度的次年 1 月 1 日起算。本清单供鉴定小组鉴定、登记和审批；dangan 不会删除任何文件，经批准销毁的文件须由档案人员按规定处理。",
        "en": "retention counts from 1 January after the record's year. This list is for the appraisal, its register and approval; dangan never deletes a record.",
    },
    "appraisal.none": {"zh": "截至 {year} 年，没有保管期限已满的文件。", "en": "no record's retention has ended as of {year}."},
    # --- honest2 ---
    "log.level.DEBUG": {"zh": "调试", "en": "DEBUG"},
    "log.level.INFO": {"zh": "信息", "en": "INFO"},
    "log.level.SUCCESS": {"zh": "完成", "en": "SUCCESS"},
    "log.level.WARNING": {"zh": "警告", "en": "WARNING"},
    "log.level.ERROR": {"zh": "错误", "en": "ERROR"},
    "log.level.CRITICAL": {"zh": "严重", "en": "CRITICAL"},
    "job.title.offsite": {"zh": "异地备份", "en": "off-site backup"},
    "job.title.drill": {"zh": "恢复演练", "en": "restore drill"},
    "job.title.audit": {"zh": "每周核验", "en": "weekly audit"},
    "job.title.report": {"zh": "完整性报告", "en": "integrity report"},
    "log.job_stopped": {
        "zh": "服务停止：中断正在运行的任务「{job}」（下次从中断处继续）",
        "en": "service stopping: interrupting the running job {job} (it resumes next time)",
    },
    "log.stopping": {
        "zh": "收到停止信号：完成正在复制的文件后停止",
        "en": "stop requested: finishing the copies in flight, then stopping",
    },
    "log.batch": {"zh": "已复制到镜像盘：{files} 个文件，{size}", "en": "copied to the mirror: {files} files, {size}"},
    "progress.audit": {"zh": "核验副本", "en": "verifying the copies"},
    "progress.check": {"zh": "读取并检查文件", "en": "reading and checking files"},
    "progress.mirror": {"zh": "复制到镜像盘", "en": "copying to the mirror"},
    "progress.restore": {"zh": "恢复并核验", "en": "restoring and verifying"},
    "progress.offsite": {"zh": "传送到异地", "en": "shipping off-site"},
    "progress.count": {"zh": "{what}：{done}/{total} 个文件", "en": "{what}: {done}/{total} files"},
    "progress.bytes": {"zh": "{done}/{total}，每秒 {rate}", "en": "{done} of {total}, {rate}/s"},
    "progress.left": {"zh": "预计还需 {left}", "en": "about {left} left"},
    "progress.sep": {"zh": "，", "en": ", "},
    "progress.done": {
        "zh": "{what}完成：{done} 个文件 {size}，用时 {seconds}",
        "en": "{what} done: {done} files {size} in {seconds}",
    },
    "progress.seconds": {"zh": "{s} 秒", "en": "{s} s"},
    "progress.minutes": {"zh": "{m} 分 {s} 秒", "en": "{m} min {s} s"},
    "progress.hours": {"zh": "{h} 小时 {m} 分", "en": "{h} h {m} min"},
    "log.copy_failed": {
        "zh": "复制到镜像盘失败：{path}（{reason}），稍后自动重试",
        "en": "mirror copy of {path} failed ({reason}), retried on its own",
    },
    "log.copy_recovered": {
        "zh": "{path} 在之前失败后已成功复制到镜像盘",
        "en": "mirror copy of {path} succeeded after failures",
    },
    "log.watch_failed": {
        "zh": "{count} 个新文件夹无法监视（max_user_watches 为 {limit}）：先做一次完整核对，之后定期轮询这些文件夹",
        "en": "{count} new folders could not be watched (max_user_watches {limit}): full reconcile, then polled",
    },
    "log.worker_moving": {"zh": "工作线程恢复运行", "en": "the worker thread makes progress again"},
    "log.worker_stuck": {
        "zh": "工作线程已 {seconds} 秒没有任何进展：停止看门狗信号和状态文件（systemd 将重启服务）",
        "en": "the worker thread made no progress for {seconds} s: watchdog pings and status stop",
    },
    "log.status_unwritten": {"zh": "无法写入状态文件：{reason}", "en": "status not written: {reason}"},
    "log.sweep_failed": {
        "zh": "启动时未能清理镜像盘上的临时文件：{reason}",
        "en": "temp files on the mirror not swept at start: {reason}",
    },
    "log.swept_after_outage": {
        "zh": "清理了镜像盘故障时留下的 {count} 个临时文件",
        "en": "swept {count} temp files left when the mirror disk failed",
    },
    "log.primary_corrupt": {
        "zh": ("档案盘上的文件内容已损坏（大小和修改时间未变，内容却不同），没有复制到镜像盘：{path}。"
               "请运行 dangan audit --repair 用完好的副本修复。"),
        "en": ("silent corruption on the archive disk, not propagated: {path}. Run dangan audit --repair "
               "to repair it from a good copy."),
    },
    "log.mirror_lacking": {
        "zh": "镜像盘缺少目录数据库登记的 {count} 个副本（新换的硬盘，或副本在镜像盘上被删除）：正在从档案重新复制（{paths}）",
        "en": ("the mirror lacks {count} copies the catalog lists (a new disk, or copies deleted on it): "
               "refilling from the archive ({paths})"),
    },
    "log.catalog_copy_failed": {
        "zh": "目录数据库未能复制到镜像盘：{reason}",
        "en": "catalog copy to the mirror failed: {reason}",
    },
    "log.mirror_stalled": {
        "zh": "镜像盘已 {seconds} 秒没有响应：暂时视为不可用",
        "en": "a mirror call stalled for {seconds} s: mirror treated as unavailable",
    },
    "log.mirror_answers": {
        "zh": "无响应的镜像盘操作在 {seconds} 秒后返回了",
        "en": "the stalled mirror call returned after {seconds} s",
    },
    "log.inventory_unusable": {
        "zh": "清单 {target} 无法使用，改用前一份：{reason}",
        "en": "inventory {target} unusable, trying the one before it: {reason}",
    },
}


def set_language(language: str) -> None:
    """Switch the language for every message that follows (``zh`` or ``en``)."""
    global _language
    _language = language if language in LANGUAGES else "zh"


def language() -> str:
    return _language


def t(key: str, /, **args: object) -> str:
    """Render message ``key`` in the current language with ``args`` filled in."""
    entry = MESSAGES[key]
    text = entry.get(_language) or entry["zh"]
    return text.format(**args) if args else text


def has(key: str) -> bool:
    return key in MESSAGES
