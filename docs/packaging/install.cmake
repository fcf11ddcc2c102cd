# install.cmake - what `cmake --install` lays out and how `cpack -G DEB`
# packages it. Included from the top-level CMakeLists.txt after the
# programs are defined (they install themselves into CMAKE_INSTALL_BINDIR).
#
# Paths follow GNUInstallDirs. With CMAKE_INSTALL_PREFIX=/usr (the Debian
# package) the configuration lives in /etc/aofroll, the unit in
# /usr/lib/systemd/system; under another prefix in PREFIX/etc/aofroll and
# PREFIX/lib/systemd/system. The programs read AOFROLL_DEFAULT_CONFIG when
# -c is not given and AOFROLL_CONFIG is not set, so the installed sample,
# the unit's ExecStart and the programs always agree.
#
#   bin/aofroll, bin/aofroll-collector
#   ${sysconfdir}/aofroll/aofroll.yaml              commented sample (a conffile)
#   lib/systemd/system/aofroll-collector.service     ExecStart filled in here
#   share/man/man1/aofroll.1, man8/aofroll-collector.8, man5/aofroll.yaml.5
#   share/bash-completion/completions/aofroll, aofroll-collector
#   share/doc/aofroll/README.md, *.md

set(AOFROLL_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "where the systemd unit goes, relative to CMAKE_INSTALL_PREFIX")
if(IS_ABSOLUTE "${AOFROLL_SYSTEMD_UNITDIR}")
  set(AOFROLL_SYSTEMD_UNITDIR_FULL "${AOFROLL_SYSTEMD_UNITDIR}")
else()
  set(AOFROLL_SYSTEMD_UNITDIR_FULL "${CMAKE_INSTALL_PREFIX}/${AOFROLL_SYSTEMD_UNITDIR}")
endif()
set(pkg ${CMAKE_CURRENT_SOURCE_DIR}/docs/packaging)

configure_file(${CMAKE_CURRENT_SOURCE_DIR}/docs/systemd/aofroll-collector.service.in
               ${CMAKE_CURRENT_BINARY_DIR}/aofroll-collector.service @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/aofroll-collector.service
        DESTINATION ${AOFROLL_SYSTEMD_UNITDIR})
# the sample configuration: absolute, so that prefix /usr puts it in /etc
install(FILES ${pkg}/aofroll.yaml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/aofroll)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/aofroll.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/aofroll.yaml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/aofroll-collector.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${pkg}/aofroll.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME aofroll)
install(FILES ${pkg}/aofroll.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME aofroll-collector)
file(GLOB aofroll_docs ${CMAKE_CURRENT_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE ${aofroll_docs}
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- cpack -G DEB ---------------------------------------------------------
# Dependencies come from dpkg-shlibdeps (package dpkg-dev) on the installed
# binaries. The package's paths are the ones configured above: build it from
# a tree configured with -DCMAKE_INSTALL_PREFIX=/usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME aofroll)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "aofroll maintainers <aofroll@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "continuous AOF archiving and point-in-time restore for Redis")
set(CPACK_PACKAGE_DESCRIPTION
    "aofroll-collector copies each Redis instance's append-only file as it grows, in throttled,\n"
    "compressed, CRC-checked chunks indexed by time, to a directory, S3, SFTP or Azure Blob;\n"
    "aofroll rebuilds an instance as it was at any second.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-tools")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")
configure_file(${pkg}/conffiles.in ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles @ONLY)
configure_file(${pkg}/postinst ${CMAKE_CURRENT_BINARY_DIR}/debian/postinst COPYONLY)
configure_file(${pkg}/postrm ${CMAKE_CURRENT_BINARY_DIR}/debian/postrm COPYONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles ${CMAKE_CURRENT_BINARY_DIR}/debian/postinst
    ${CMAKE_CURRENT_BINARY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
