"""The registers the school's regulations ask for, built from the catalog: the file directory (归档文件目录),
the transfer register (移交清册), the registration statistics, the appraisal list (鉴定) and the department
scorecard (过程考核). They read the catalog and the rules' findings and write nothing back; the CLI exports
them, the weekly report and the department digests show them."""
