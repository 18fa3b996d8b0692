#!/usr/bin/env bash
# Makes sure MariaDB/MySQL, PostgreSQL and Redis answer on their standard
# local ports, starting any that is down with the machine's own start
# command. A service that still does not answer stops the run with its
# name: the integration tests never skip a database.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure() {
	local name=$1 port=$2 start=$3
	if up "$port"; then return 0; fi
	echo "services: $name is not answering on 127.0.0.1:$port; starting it" >&2
	bash -c "$start" >/dev/null 2>&1 || true
	for _ in $(seq 1 60); do
		if up "$port"; then return 0; fi
		sleep 0.5
	done
	echo "services: FATAL: $name is required on 127.0.0.1:$port and could not be started ($start)" >&2
	exit 1
}

ensure "MariaDB/MySQL" 3306 "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
ensure "PostgreSQL" 5432 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
ensure "Redis" 6379 'mkdir -p /var/lib/redis /var/log/redis; redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'
