#!/usr/bin/env bash
# Run a real WordPress (Debian's `wordpress` package: 6.1.x, PHP 8.2 under
# Apache mod_php, MariaDB) on loopback, as an oracle to compare ferropress with.
#
#   scripts/wordpress-oracle.sh start   install packages if needed, start, provision once
#   scripts/wordpress-oracle.sh env     print shell exports (URL, users, passwords, ids)
#   scripts/wordpress-oracle.sh stop    stop the daemons (succeeds when nothing runs)
#   scripts/wordpress-oracle.sh reset   stop, delete all state, start a fresh site
#   scripts/wordpress-oracle.sh status  exit 0 when running
#
# Settings: WP_ORACLE_DIR (default /tmp/wp-oracle) holds all state: database,
# Apache config, wp-config, uploads, pid files, logs and the `env` file.
# WP_ORACLE_PORT (default 8881) is the HTTP port on 127.0.0.1. MariaDB listens
# on a unix socket only, so a second oracle never collides on a DB port.
#
# Needs root and Debian 12. No systemd: the daemons are started directly.
# Usage in a test:  scripts/wordpress-oracle.sh start && eval "$(scripts/wordpress-oracle.sh env)"

set -euo pipefail
# Files here are read by www-data and mysql; a strict caller umask would break that.
umask 022

DIR=${WP_ORACLE_DIR:-/tmp/wp-oracle}
PORT=${WP_ORACLE_PORT:-8881}
URL="http://127.0.0.1:${PORT}"
WP_ROOT=/usr/share/wordpress

# Daemons get a clean environment, not the caller's (CI variables and the like).
CLEAN_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)

RUN="$DIR/run"
LOGS="$DIR/log"
DATA="$DIR/mysql"
SOCK="$RUN/mysqld/mysqld.sock"
MYSQL_PID="$RUN/mysqld/mysqld.pid"
APACHE_PID="$RUN/apache2.pid"
APACHE_CONF="$DIR/apache2.conf"
CONTENT="$DIR/wp-content"
MARKER="$DIR/.wp-oracle"
# Debian's wp-config.php loads /etc/wordpress/config-$WORDPRESS_CONFIG.php when
# Apache sets that variable; keying it by port avoids taking over the
# host-named config-127.0.0.1.php / config-localhost.php files.
CONFIG_NAME="ferropress-oracle-${PORT}"
CONFIG_LINK="/etc/wordpress/config-${CONFIG_NAME}.php"

DB_NAME=wordpress
DB_USER=wordpress
DB_PASS=oracle-db-password

PACKAGES=(wordpress wordpress-theme-twentytwentythree mariadb-server mariadb-client
          apache2 libapache2-mod-php php-cli php-mysql php-mbstring php-xml
          curl ca-certificates util-linux)

log() { printf 'wordpress-oracle: %s\n' "$*" >&2; }

STARTING=0

die() {
    log "ERROR: $*"
    # A failed start must not leave daemons behind (CI would leak them).
    if ((STARTING)); then
        STARTING=0
        local f
        for f in "$LOGS/mariadb.err" "$LOGS/apache-error.log" "$LOGS/setup.log"; do
            if [[ -s $f ]]; then
                log "--- last lines of $f ---"
                tail -n 20 "$f" >&2 || true
            fi
        done
        cmd_stop || true
    fi
    exit 1
}

# A pid file alone is not proof: the pid may have been reused by something else.
pid_alive() { # pidfile expected-comm
    local pid
    [[ -s $1 ]] || return 1
    pid=$(<"$1")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$2" ]]
}

http_code() { # path
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL$1" 2>/dev/null || true
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]} (takes a minute or two)"
    # Package scripts would otherwise try to start the system-wide MariaDB and
    # Apache; we run our own instances instead.
    local made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local rc=0
    {
        apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
    } >&2 || rc=$?
    if ((made_policy)); then
        rm -f /usr/sbin/policy-rc.d
        trap - EXIT
    fi
    ((rc == 0)) || die "apt-get install failed"
}

prepare_dirs() {
    if [[ -d $DIR && ! -e $MARKER && -n $(ls -A "$DIR") ]]; then
        die "$DIR exists, is not empty and was not made by this script; set WP_ORACLE_DIR"
    fi
    mkdir -p "$DIR" "$RUN/mysqld" "$LOGS" "$CONTENT"/{themes,plugins,uploads,languages,upgrade}
    touch "$MARKER"
    chmod 755 "$DIR" "$RUN" "$LOGS"
    chown mysql:mysql "$RUN/mysqld"
    # Apache's children (www-data) and mariadbd (mysql) must reach the state dir.
    runuser -u www-data -- test -x "$DIR" ||
        die "$DIR is not reachable by www-data (a parent directory is not world-searchable); choose another WP_ORACLE_DIR"
    # Content dir: Debian's default (/var/lib/wordpress/wp-content) is shared
    # system state, so use a private one with the packaged themes linked in.
    local t
    for t in "$WP_ROOT"/wp-content/themes/*/; do
        t=${t%/}
        ln -sfn "$t" "$CONTENT/themes/$(basename "$t")"
    done
    ln -sfn "$WP_ROOT/wp-content/plugins/index.php" "$CONTENT/plugins/index.php"
    chown www-data:www-data "$CONTENT" "$CONTENT"/{themes,plugins,uploads,languages,upgrade}
}

start_mariadb() {
    if pid_alive "$MYSQL_PID" mariadbd; then return 0; fi
    rm -f "$MYSQL_PID" "$SOCK"
    if [[ ! -d $DATA/mysql ]]; then
        log "initialising MariaDB datadir"
        rm -rf "$DATA"
        mkdir -p "$DATA"
        chown mysql:mysql "$DATA"
        mariadb-install-db --no-defaults --user=mysql --datadir="$DATA" \
            --auth-root-authentication-method=socket --skip-test-db \
            >"$LOGS/mariadb-install.log" 2>&1 || die "mariadb-install-db failed, see $LOGS/mariadb-install.log"
    fi
    # mariadbd runs as mysql and could not create its log in the root-owned log dir.
    touch "$LOGS/mariadb.err"
    chown mysql:mysql "$LOGS/mariadb.err"
    # --no-defaults: ignore /etc/mysql/*, whose socket and datadir belong to the system instance.
    "${CLEAN_ENV[@]}" setsid mariadbd --no-defaults --user=mysql --datadir="$DATA" --socket="$SOCK" \
        --pid-file="$MYSQL_PID" --skip-networking --log-error="$LOGS/mariadb.err" \
        --innodb-buffer-pool-size=64M --character-set-server=utf8mb4 \
        </dev/null >/dev/null 2>&1 9>&- &
    local i
    for ((i = 0; i < 120; i++)); do
        if mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1 &&
           pid_alive "$MYSQL_PID" mariadbd; then
            break
        fi
        sleep 0.5
    done
    ((i < 120)) || die "MariaDB did not come up"
    # Idempotent, so a half-finished earlier start is repaired.
    mariadb --no-defaults --socket="$SOCK" -uroot <<SQL || die "creating the database failed"
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
SQL
}

write_wp_config() {
    # Salts are generated once and kept, so cookies survive restarts.
    if [[ ! -s $DIR/wp-salts.php ]]; then
        # shellcheck disable=SC2016 # PHP code, not shell
        php -r '
            echo "<?php\n";
            foreach (["AUTH_KEY","SECURE_AUTH_KEY","LOGGED_IN_KEY","NONCE_KEY",
                      "AUTH_SALT","SECURE_AUTH_SALT","LOGGED_IN_SALT","NONCE_SALT"] as $k)
                echo "define(\x27$k\x27, \x27" . bin2hex(random_bytes(32)) . "\x27);\n";
        ' >"$DIR/wp-salts.php.tmp"
        mv "$DIR/wp-salts.php.tmp" "$DIR/wp-salts.php"
    fi
    # Rewritten on every start so that a changed WP_ORACLE_PORT takes effect.
    cat >"$DIR/wp-config.php" <<PHP
<?php
// Generated by scripts/wordpress-oracle.sh; loaded through $CONFIG_LINK.
define('DB_NAME', '$DB_NAME');
define('DB_USER', '$DB_USER');
define('DB_PASSWORD', '$DB_PASS');
define('DB_HOST', 'localhost:$SOCK');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('WP_HOME', '$URL');
define('WP_SITEURL', '$URL');
define('WP_CONTENT_DIR', '$CONTENT');
define('WP_CONTENT_URL', '$URL/wp-content');
// Application Passwords need HTTPS unless the environment type is 'local'.
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_DEBUG', false);
// Keep the oracle deterministic and offline: no cron spawns, no update checks,
// no outbound HTTP except to this site.
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('FS_METHOD', 'direct');
require __DIR__ . '/wp-salts.php';
\$table_prefix = 'wp_';
PHP
    chmod 644 "$DIR/wp-config.php" "$DIR/wp-salts.php"
    mkdir -p /etc/wordpress
    ln -sfn "$DIR/wp-config.php" "$CONFIG_LINK"
}

write_apache_conf() {
    local libphp=(/usr/lib/apache2/modules/libphp*.so)
    [[ -e ${libphp[0]} ]] || die "mod_php not found (libapache2-mod-php)"
    local m=/usr/lib/apache2/modules
    cat >"$APACHE_CONF" <<CONF
# Generated by scripts/wordpress-oracle.sh; self-contained (does not read /etc/apache2).
ServerRoot "$DIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$APACHE_PID"
DefaultRuntimeDir "$RUN"
Mutex file:$RUN default
User www-data
Group www-data
ErrorLog "$LOGS/apache-error.log"
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %b %D \"%{User-Agent}i\"" oracle
CustomLog "$LOGS/apache-access.log" oracle

LoadModule mpm_prefork_module $m/mod_mpm_prefork.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule alias_module $m/mod_alias.so
LoadModule dir_module $m/mod_dir.so
LoadModule env_module $m/mod_env.so
LoadModule mime_module $m/mod_mime.so
LoadModule rewrite_module $m/mod_rewrite.so
LoadModule php_module ${libphp[0]}

# Small pool: a test oracle on a 2-core machine.
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16
MaxConnectionsPerChild 1000
Timeout 60

TypesConfig /etc/mime.types
AddDefaultCharset Off
DocumentRoot "$WP_ROOT"
DirectoryIndex index.php index.html

<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>

<FilesMatch ".+\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>

# Tells Debian's wp-config.php which /etc/wordpress/config-*.php to load.
SetEnv WORDPRESS_CONFIG $CONFIG_NAME

Alias /wp-content "$CONTENT"
<Directory "$CONTENT">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>

<Directory "$WP_ROOT">
    Options FollowSymLinks
    # Debian's .htaccess there is all comments; the rules live here instead.
    AllowOverride None
    Require all granted
    # Exactly what WordPress 6.1 writes to .htaccess for pretty permalinks
    # (WP_Rewrite::mod_rewrite_rules), including passing Authorization on.
    RewriteEngine On
    RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
    RewriteBase /
    RewriteRule ^index\.php$ - [L]
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteRule . /index.php [L]
</Directory>
CONF
}

start_apache() {
    if pid_alive "$APACHE_PID" apache2; then return 0; fi
    rm -f "$APACHE_PID"
    port_in_use && die "127.0.0.1:$PORT is already in use by another process; set WP_ORACLE_PORT"
    apache2 -f "$APACHE_CONF" -t >/dev/null 2>"$LOGS/apache-configtest.log" ||
        die "Apache config test failed: $(cat "$LOGS/apache-configtest.log")"
    "${CLEAN_ENV[@]}" apache2 -f "$APACHE_CONF" -k start 9>&- || die "Apache failed to start"
    local i
    for ((i = 0; i < 60; i++)); do
        pid_alive "$APACHE_PID" apache2 && return 0
        sleep 0.5
    done
    die "Apache did not write its pid file"
}

# Installs the site and creates one user (with one application password) per
# role. Application passwords are stored hashed, so the only copy of the
# plain ones is $DIR/credentials; provisioning therefore runs until that file
# exists and re-issues passwords if an earlier run was interrupted.
provision() {
    [[ -s $DIR/credentials ]] && return 0
    log "installing WordPress and creating users"
    cat >"$DIR/setup.php" <<'PHP'
<?php
// Debian's wp-config.php picks its config from these even under the CLI.
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG');
$_SERVER['HTTP_HOST'] = '127.0.0.1:' . getenv('WP_ORACLE_PORT');
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = getenv('WP_ORACLE_PORT');
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
// No mail on this machine; the "new site" mail would only produce warnings.
function wp_new_blog_notification() {}
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/user.php';

function fail($what) {
    fwrite(STDERR, "setup failed: $what\n");
    exit(1);
}

if (!is_blog_installed()) {
    $r = wp_install('ferropress oracle', 'admin', 'admin@example.com', true, '', 'password-admin');
    if (is_wp_error($r)) fail($r->get_error_message());
}
// Other options keep WordPress's install defaults, as on a stock site.
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
flush_rewrite_rules(false);

$roles = ['admin' => 'administrator', 'editor' => 'editor', 'author' => 'author',
          'contributor' => 'contributor', 'subscriber' => 'subscriber'];
foreach ($roles as $login => $role) {
    $pass = "password-$login";
    $user = get_user_by('login', $login);
    if ($user) {
        $id = $user->ID;
        wp_set_password($pass, $id);
    } else {
        $id = wp_insert_user([
            'user_login' => $login, 'user_pass' => $pass, 'user_email' => "$login@example.com",
            'display_name' => ucfirst($login), 'first_name' => ucfirst($login), 'role' => $role,
        ]);
        if (is_wp_error($id)) fail($id->get_error_message());
    }
    (new WP_User($id))->set_role($role);
    foreach (WP_Application_Passwords::get_user_application_passwords($id) as $item) {
        if ($item['name'] === 'oracle') {
            WP_Application_Passwords::delete_application_password($id, $item['uuid']);
        }
    }
    $created = WP_Application_Passwords::create_new_application_password($id, ['name' => 'oracle']);
    if (is_wp_error($created)) fail($created->get_error_message());
    $app = WP_Application_Passwords::chunk_password($created[0]);
    $var = 'WP_ORACLE_' . strtoupper($login);
    echo "export {$var}_USER=" . escapeshellarg($login) . "\n";
    echo "export {$var}_ROLE=" . escapeshellarg($role) . "\n";
    echo "export {$var}_ID=" . (int) $id . "\n";
    echo "export {$var}_EMAIL=" . escapeshellarg("$login@example.com") . "\n";
    echo "export {$var}_PASSWORD=" . escapeshellarg($pass) . "\n";
    echo "export {$var}_APP_PASSWORD=" . escapeshellarg($app) . "\n";
}
PHP
    chmod 644 "$DIR/setup.php"
    # As www-data, so anything WordPress writes is owned like under Apache.
    "${CLEAN_ENV[@]}" runuser -u www-data -- env WORDPRESS_CONFIG="$CONFIG_NAME" WP_ORACLE_PORT="$PORT" \
        php -d display_errors=stderr "$DIR/setup.php" >"$DIR/credentials.tmp" 2>"$LOGS/setup.log" ||
        die "WordPress setup failed"
    chmod 644 "$DIR/credentials.tmp"
    mv "$DIR/credentials.tmp" "$DIR/credentials"
}

write_env() {
    {
        echo "export WP_ORACLE_URL='$URL'"
        echo "export WP_ORACLE_PORT='$PORT'"
        echo "export WP_ORACLE_DIR='$DIR'"
        echo "export WP_ORACLE_DB_SOCKET='$SOCK'"
        echo "export WP_ORACLE_WP_VERSION='$(dpkg-query -W -f='${Version}' wordpress)'"
        cat "$DIR/credentials"
    } >"$DIR/env.tmp"
    chmod 644 "$DIR/env.tmp"
    mv "$DIR/env.tmp" "$DIR/env"
}

wait_ready() {
    local i code
    for ((i = 0; i < 120; i++)); do
        code=$(http_code /wp-json/)
        [[ $code == 200 ]] && return 0
        sleep 0.5
    done
    die "$URL/wp-json/ did not return 200 (last status: ${code:-none})"
}

running() {
    pid_alive "$MYSQL_PID" mariadbd && pid_alive "$APACHE_PID" apache2 &&
        [[ -s $DIR/env ]] && [[ $(http_code /wp-json/) == 200 ]]
}

cmd_start() {
    [[ $EUID -eq 0 ]] || die "must run as root"
    # Paths are pasted into Apache, PHP and SQL config unquoted or single-quoted.
    [[ $DIR =~ ^/[A-Za-z0-9._/-]+$ ]] || die "WP_ORACLE_DIR must be an absolute path of [A-Za-z0-9._/-]"
    ((${#SOCK} < 100)) || die "WP_ORACLE_DIR is too long for a unix socket path"
    if [[ ! $PORT =~ ^[1-9][0-9]{0,4}$ ]] || ((PORT > 65535)); then
        die "bad WP_ORACLE_PORT: $PORT"
    fi
    if running; then
        log "already running at $URL"
        return 0
    fi
    if ! pid_alive "$APACHE_PID" apache2 && port_in_use; then
        die "127.0.0.1:$PORT is already in use by another process; set WP_ORACLE_PORT"
    fi
    ensure_packages
    prepare_dirs
    write_wp_config
    write_apache_conf
    STARTING=1
    start_mariadb
    start_apache
    provision
    write_env
    wait_ready
    STARTING=0
    log "WordPress $(dpkg-query -W -f='${Version}' wordpress) is up at $URL (state in $DIR)"
}

stop_pid() { # pidfile comm seconds
    local pid i
    if ! pid_alive "$1" "$2"; then
        rm -f "$1"
        return 0
    fi
    pid=$(<"$1")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < $3 * 10; i++)); do
        [[ -e /proc/$pid ]] || break
        sleep 0.1
    done
    if [[ -e /proc/$pid ]]; then
        log "$2 ($pid) ignored SIGTERM; killing it"
        # Both daemons lead their own session, so the group is theirs alone.
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

cmd_stop() {
    [[ -d $DIR ]] || return 0
    stop_pid "$APACHE_PID" apache2 20
    stop_pid "$MYSQL_PID" mariadbd 60
    return 0
}

cmd_env() {
    [[ -s $DIR/env ]] || die "no $DIR/env; run '$0 start' first"
    cat "$DIR/env"
}

cmd_reset() {
    cmd_stop
    if [[ -d $DIR ]]; then
        [[ -e $MARKER ]] || die "refusing to delete $DIR: it was not made by this script"
        rm -rf "$DIR"
    fi
    rm -f "$CONFIG_LINK"
    cmd_start
}

# start/stop/reset change the daemons: one at a time (two callers at once would start a
# second MariaDB on the same data dir and lose the first one's socket).
if [[ ${1:-} == start || ${1:-} == stop || ${1:-} == reset ]]; then
    mkdir -p "$(dirname "$DIR")"
    # The daemons are started with fd 9 closed (9>&-): a daemon holding it would keep
    # the lock for its whole life and the next stop would wait forever.
    exec 9>"${DIR%/}.lock"
    flock 9
fi

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    reset) cmd_reset ;;
    status) if running; then echo "running at $URL"; else echo "not running"; exit 1; fi ;;
    *)
        echo "usage: $0 start|env|stop|reset|status" >&2
        exit 2
        ;;
esac
